import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../common/paths';
import { SERVICES, packageCli, readDocument, writeDocuments } from '../helpers/openapi';
import { TEST_TOKEN, startStack, tempDir, type Stack } from '../helpers/stack';

const ROOT = projectRoot(__dirname);

/** What the test reads of typed-client/store-client.ts once compiled (the project cannot import it: see there). */
interface StoreClient {
  shop(
    urls: { frontend: string; catalog: string; order: string },
    token: string,
    idempotencyKey: string,
  ): Promise<{
    book: { id: number; title: string; stock: number; priceCents: number };
    titles: string[];
    bought: { orderId: string; status: string; priceCents: number | null };
    stockAfter: number;
    confirmed: string[];
    missingCode: string | undefined;
  }>;
}

/** Runs a package's CLI in `cwd`; fails the test with its output when it fails. */
function run(pkg: string, script: string, args: string[], cwd: string): void {
  const { status, stdout, stderr } = packageCli(pkg, script, args, { cwd });
  expect(status, `${pkg} ${args.join(' ')}:\n${stdout}\n${stderr}`).to.equal(0);
}

describe('OpenAPI documents: a client generated from them', function () {
  this.timeout(120_000);
  let stack: Stack;
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    stack = await startStack();
    tmp = tempDir('bazar-generated-client-');
  });
  after(async () => {
    await stack.close();
    tmp.remove();
  });

  it('when types are generated from each served document with openapi-typescript, then a client written against them type-checks and buys a book from the running services', async () => {
    // Generate one TypeScript file of types per document, as a client project would: openapi-typescript takes
    // several documents at once from a redocly.yaml that lists them (one process instead of three).
    const files = await writeDocuments(stack, tmp.dir);
    const apis = SERVICES.map(
      (service) => `  ${service}:\n    root: ${files[service]}\n    x-openapi-ts:\n      output: ./generated/${service}.ts\n`,
    );
    writeFileSync(join(tmp.dir, 'redocly.yaml'), `apis:\n${apis.join('')}`);
    run('openapi-typescript', 'bin/cli.js', ['--redocly', join(tmp.dir, 'redocly.yaml')], tmp.dir);
    expect(readFileSync(join(tmp.dir, 'generated', 'frontend.ts'), 'utf8')).to.match(/export interface operations \{[^]*\n    lookupBook: \{/);

    // Type-check the client against them with the project's TypeScript, strict, and compile it to run.
    copyFileSync(join(__dirname, 'typed-client', 'store-client.ts'), join(tmp.dir, 'store-client.ts'));
    const compilerOptions = {
      strict: true,
      noUnusedLocals: true,
      target: 'ES2022',
      module: 'node16',
      moduleResolution: 'node16',
      lib: ['ES2022'],
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      skipLibCheck: true,
      outDir: 'out',
    };
    writeFileSync(join(tmp.dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['store-client.ts'] }));
    run('typescript', 'bin/tsc', ['-p', join(tmp.dir, 'tsconfig.json')], tmp.dir);

    // Run it against the services, at the addresses their documents name.
    const urls = {
      frontend: (await readDocument(stack.frontend)).servers?.[0].url ?? '',
      catalog: (await readDocument(stack.catalog)).servers?.[0].url ?? '',
      order: (await readDocument(stack.order)).servers?.[0].url ?? '',
    };
    const client = require(join(tmp.dir, 'out', 'store-client.js')) as StoreClient;
    const before = await stack.store.getBook(1);
    const result = await client.shop(urls, TEST_TOKEN, 'generated-client-1');

    expect(result.book).to.deep.equal({ id: 1, title: before?.title, stock: before?.stock, priceCents: before?.price_cents });
    expect(result.titles).to.include(before?.title);
    expect(result.bought).to.include({ status: 'confirmed', priceCents: before?.price_cents });
    expect(result.stockAfter).to.equal((before?.stock ?? 0) - 1);
    expect(result.confirmed).to.include(result.bought.orderId);
    expect(result.missingCode).to.equal('book_not_found');
    // The new state, read from the stores themselves.
    expect((await stack.store.getBook(1))?.stock).to.equal((before?.stock ?? 0) - 1);
    expect((await stack.ledger.get(result.bought.orderId))?.status).to.equal('confirmed');
  });
});
