import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../common/paths';
import { tempDir } from '../helpers/stack';

const { checkDocs } = require('../../scripts/check-docs.js') as { checkDocs: (files: string[], base?: string) => string[] };
const SCRIPT = join(projectRoot(), 'scripts', 'check-docs.js');

describe('docs: the Markdown link check', () => {
  let tmp: ReturnType<typeof tempDir>;
  const write = (name: string, text: string) => {
    const file = join(tmp.dir, name);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  beforeEach(() => {
    tmp = tempDir('bazar-docs-');
  });
  afterEach(() => tmp.remove());

  it('when every link and anchor resolves the way GitHub slugs headings, then nothing is reported', () => {
    write(
      'docs/guide.md',
      [
        '# Guide',
        '## The `bazar_cli` command',
        '## Caching: fast — and _never_ stale!',
        '## Caching: fast — and _never_ stale!',
        'Setext heading',
        '---',
        '<a id="custom-spot"></a>',
      ].join('\n'),
    );
    const readme = write(
      'README.md',
      [
        '[guide](docs/guide.md) ![pic](docs/guide.md) [top](#read-me) [site](https://example.com/missing)',
        '[cli](docs/guide.md#the-bazar_cli-command) [cache](docs/guide.md#caching-fast--and-never-stale)',
        '[again](docs/guide.md#caching-fast--and-never-stale-1) [setext](docs/guide.md#setext-heading)',
        '[spot](docs/guide.md#custom-spot) [folder](docs/) `[shown as code](nowhere.md)`',
        '```',
        '[inside a code block](nowhere.md)',
        '```',
        '# Read me',
      ].join('\n'),
    );

    expect(checkDocs([readme], tmp.dir)).to.deep.equal([]);
  });

  it('when a link names a file that does not exist, then it is reported with its file and line, and others are not', () => {
    write('docs/guide.md', '# Guide\n');
    const readme = write('README.md', 'Fine: [guide](docs/guide.md)\n\nBroken: [gone](docs/moved-away.md)\n');

    const problems = checkDocs([readme], tmp.dir);

    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/README\.md:3: link 'docs\/moved-away\.md' points to .*docs\/moved-away\.md, which does not exist$/);
  });

  it('when an anchor names no heading of its page, then it is reported, in another page and in the same one', () => {
    write('docs/guide.md', '# Guide\n## Timeouts and retries\n');
    const readme = write(
      'README.md',
      ['[ok](docs/guide.md#timeouts-and-retries)', '[renamed](docs/guide.md#timeouts)', '[self](#no-such-section)', '# Intro'].join('\n'),
    );

    const problems = checkDocs([readme], tmp.dir);

    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/README\.md:2: link 'docs\/guide\.md#timeouts' names #timeouts, but .*guide\.md has no such heading$/);
    expect(problems[1]).to.match(/README\.md:3: link '#no-such-section' names #no-such-section/);
  });

  it('when run as a command on a page with a broken anchor, then it exits 1 and names the link on stderr', () => {
    const good = write('good.md', '# Good\n[self](#good)\n');
    const bad = write('bad.md', '# Bad\n[elsewhere](good.md#bad)\n');

    const passed = spawnSync(process.execPath, [SCRIPT, good], { encoding: 'utf8' });
    const failed = spawnSync(process.execPath, [SCRIPT, good, bad], { encoding: 'utf8' });

    expect(passed.status).to.equal(0);
    expect(passed.stdout).to.contain('1 Markdown file, 0 broken links');
    expect(failed.status).to.equal(1);
    expect(failed.stderr).to.match(/bad\.md:2: link 'good\.md#bad' names #bad/);
    expect(failed.stdout).to.contain('2 Markdown files, 1 broken link');
  });
});
