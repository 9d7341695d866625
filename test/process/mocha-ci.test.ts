import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../common/paths';
import { tempDir } from '../helpers/stack';

/** A `.only` left in a commit would silently skip every other test; CI must refuse it (.mocharc.js). */
describe('mocha settings: .only under CI', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let spec: string;

  beforeEach(() => {
    tmp = tempDir('bazar-mocha-');
    spec = join(tmp.dir, 'only.test.js');
    writeFileSync(spec, "it.only('the one', () => {});\nit('the other', () => {});\n");
  });
  afterEach(() => tmp.remove());

  const runMocha = (ci: string) =>
    spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), spec], {
      cwd: projectRoot(),
      env: { ...process.env, CI: ci },
      encoding: 'utf8',
    });

  it('when a spec holds an .only and CI=true, then mocha refuses to run and exits non-zero', () => {
    const run = runMocha('true');
    expect(run.status).to.not.equal(0);
    expect(run.stderr + run.stdout).to.contain('ERR_MOCHA_FORBIDDEN_EXCLUSIVITY');
  });

  it('when a spec holds an .only outside CI, then only that test runs', () => {
    const run = runMocha('');
    expect(run.status).to.equal(0);
    expect(run.stdout).to.contain('mocha: 1 passed, 0 failed, 0 skipped');
  });
});
