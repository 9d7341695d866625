/**
 * `npm run lint:openapi`: starts the three services in this process (as the tests do), writes the documents they
 * serve to a temporary folder and lints them with Redocly CLI and the repository's redocly.yaml, printing its
 * report. Exits non-zero on any error. test/openapi/openapi-lint.test.ts runs the same lint in `npm test`.
 */
import { redocly, writeDocuments } from '../helpers/openapi';
import { startStack, tempDir } from '../helpers/stack';

async function main(): Promise<number> {
  const stack = await startStack();
  const tmp = tempDir('bazar-openapi-');
  try {
    const files = await writeDocuments(stack, tmp.dir);
    const { status, stdout, stderr } = redocly(['lint', ...Object.values(files)]);
    process.stdout.write(stdout);
    process.stderr.write(stderr);
    return status ?? 1;
  } finally {
    await stack.close();
    tmp.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lint:openapi failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
