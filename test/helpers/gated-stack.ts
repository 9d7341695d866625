/**
 * For the fill-vs-invalidate races: a catalog whose store pauses one read at the test's word, with a caching
 * frontend in front of it, both listening on loopback.
 */
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import type { CatalogStore } from '../../catalog-server/store/types';
import { buildFrontendApp } from '../../frontend-server/app';
import { TEST_TOKEN, tempDir } from './stack';
import { waitFor } from './wait';

/** A one-shot pause: a gated store method calls pass() after its read; once armed, that read waits for release(). */
export class Gate {
  private armed: { reached: () => void; release: Promise<void> } | undefined;

  /** The next pass() waits: `reached` resolves when one does, and `release()` lets it go on. */
  arm(): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      this.armed = { reached: resolve, release: new Promise<void>((r) => (release = r)) };
    });
    return { reached, release };
  }

  async pass(): Promise<void> {
    const armed = this.armed;
    this.armed = undefined;
    if (armed) {
      armed.reached();
      await armed.release;
    }
  }
}

export interface GatedStack {
  catalog: App;
  frontend: App;
  close(): Promise<void>;
}

/** A catalog over the store `makeStore` opens in a fresh folder, and a frontend subscribed to its changes. */
export async function startGatedStack(makeStore: (dir: string) => CatalogStore): Promise<GatedStack> {
  const tmp = tempDir();
  const catalog = buildCatalogApp({ store: makeStore(tmp.dir), token: TEST_TOKEN, logLevel: 'silent' });
  const catalogUrl = await catalog.listen({ host: '127.0.0.1', port: 0 });
  const frontend = buildFrontendApp({ catalogUrl, orderUrl: 'http://127.0.0.1:9', token: TEST_TOKEN, logLevel: 'silent' });
  const close = async () => {
    await frontend.close();
    await catalog.close();
    tmp.remove();
  };
  try {
    await frontend.listen({ host: '127.0.0.1', port: 0 });
    await waitFor('frontend subscribed', () => frontend.reads.live);
  } catch (err) {
    await close();
    throw err;
  }
  return { catalog, frontend, close };
}
