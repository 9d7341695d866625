import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { lintDocuments, readDocument, writeDocuments, type LintProblem, type OpenApiDocument } from '../helpers/openapi';
import { startStack, tempDir, type Stack } from '../helpers/stack';

/** The operation a problem points at ("#/paths/~1buy~1{n}/post/responses"), and its path and method. */
function operationAt(docs: Record<string, OpenApiDocument>, problem: LintProblem) {
  const { source, pointer } = problem.location[0];
  const [path, method] = pointer.replace(/^#\/paths\//, '').split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const file = source.ref.split('/').pop() ?? '';
  return { where: `${file} ${method.toUpperCase()} ${path}`, op: docs[file].paths[path][method] };
}

describe('OpenAPI documents: Redocly lint with redocly.yaml (recommended rules)', function () {
  this.timeout(120_000);
  let stack: Stack;
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    stack = await startStack();
    tmp = tempDir('bazar-openapi-');
  });
  after(async () => {
    await stack.close();
    tmp.remove();
  });

  it('when the three served documents are linted, then there is no error, and each warning left is one redocly.yaml keeps, for its reason', async () => {
    const files = await writeDocuments(stack, tmp.dir);
    const docs = {
      'catalog.json': await readDocument(stack.catalog),
      'order.json': await readDocument(stack.order),
      'frontend.json': await readDocument(stack.frontend),
    };
    const { status, problems } = lintDocuments(Object.values(files));
    const errors = problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => `${p.ruleId} at ${p.location[0].source.ref}${p.location[0].pointer}: ${p.message}`)).to.deep.equal([]);
    expect(status).to.equal(0);

    for (const warning of problems) {
      const { where, op } = operationAt(docs, warning);
      expect(warning.ruleId, where).to.be.oneOf(['operation-4xx-response', 'operation-2xx-response']);
      if (warning.ruleId === 'operation-4xx-response') {
        // The reason given: no input and no token, so no 4xx exists to document.
        expect([op.parameters ?? [], op.requestBody, op.security], where).to.deep.equal([[], undefined, []]);
      } else {
        // The reason given: the operation only redirects.
        expect(Object.keys(op.responses).filter((status) => Number(status) < 400), where).to.deep.equal(['303']);
      }
    }
  });

  it('when an operation lacks its operationId, summary or security, then the lint fails with an error for each', async () => {
    const broken = await readDocument(stack.catalog);
    const lookup = broken.paths['/query_by_item_number/{n}'].get;
    delete lookup.operationId;
    delete lookup.summary;
    delete lookup.security;
    const file = join(tmp.dir, 'broken.json');
    writeFileSync(file, JSON.stringify(broken, null, 2));

    const { status, problems } = lintDocuments([file]);
    expect(status).to.not.equal(0);
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId} ${p.location[0].pointer}`);
    expect(errors).to.include.members([
      'operation-operationId #/paths/~1query_by_item_number~1{n}/get/operationId',
      'operation-summary #/paths/~1query_by_item_number~1{n}/get/summary',
      'security-defined #/paths/~1query_by_item_number~1{n}/get',
    ]);
  });
});
