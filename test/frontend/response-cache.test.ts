import { expect } from 'chai';
import { ResponseCache } from '../../frontend-server/cache/response-cache';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function liveCache(options: { maxEntries?: number; ttlMs?: number; now?: () => number } = {}) {
  const cache = new ResponseCache<string>({ maxEntries: options.maxEntries ?? 100, ttlMs: options.ttlMs ?? 60_000, now: options.now });
  cache.goLive();
  return cache;
}

describe('frontend ResponseCache', () => {
  it('when a fill completes while live, then the value is served from the cache', async () => {
    const cache = liveCache();
    const { stored } = await cache.fill('b:1', async () => 'one');
    expect(stored).to.equal(true);
    expect(cache.get('b:1')).to.equal('one');
  });

  it('when an invalidation lands between the start and the end of a fill, then the fill is not stored', async () => {
    const cache = liveCache();
    const load = deferred<string>();
    const filling = cache.fill('b:1', () => load.promise);
    // The catalog answered with the old value, but the change event is applied before that answer arrives.
    cache.invalidate(['b:1']);
    load.resolve('old stock');
    const result = await filling;
    expect(result).to.deep.equal({ value: 'old stock', stored: false });
    expect(cache.get('b:1')).to.equal(undefined);
    // A fill that starts after the invalidation stores normally.
    expect((await cache.fill('b:1', async () => 'new stock')).stored).to.equal(true);
    expect(cache.get('b:1')).to.equal('new stock');
  });

  it('when another key is invalidated during a fill, then the fill is still stored', async () => {
    const cache = liveCache();
    const load = deferred<string>();
    const filling = cache.fill('b:1', () => load.promise);
    cache.invalidate(['b:2']);
    load.resolve('one');
    expect((await filling).stored).to.equal(true);
    expect(cache.get('b:1')).to.equal('one');
  });

  it('when the cache is flushed during a fill, then that fill is not stored', async () => {
    const cache = liveCache();
    const load = deferred<string>();
    const filling = cache.fill('t:x', () => load.promise);
    cache.flush();
    load.resolve('x');
    expect((await filling).stored).to.equal(false);
    expect(cache.get('t:x')).to.equal(undefined);
  });

  it('when the stream is lost, then nothing is served or stored until it is back, and a fill from before is refused', async () => {
    const cache = liveCache();
    await cache.fill('b:1', async () => 'one');
    const load = deferred<string>();
    const filling = cache.fill('b:2', () => load.promise);
    cache.goDark();
    expect(cache.get('b:1')).to.equal(undefined);
    expect((await cache.fill('b:3', async () => 'three')).stored).to.equal(false);
    cache.goLive();
    load.resolve('two');
    expect((await filling).stored).to.equal(false, 'a fill that began before reconnecting may hold a missed change');
    expect(cache.size).to.equal(0);
    expect((await cache.fill('b:2', async () => 'two')).stored).to.equal(true);
  });

  it('when a load fails, then the error propagates and nothing is stored', async () => {
    const cache = liveCache();
    let error: unknown;
    await cache.fill('b:9', async () => Promise.reject(new Error('404'))).catch((err) => (error = err));
    expect((error as Error).message).to.equal('404');
    expect(cache.size).to.equal(0);
  });

  it('when more than maxEntries are stored, then the least recently used is evicted', async () => {
    const cache = liveCache({ maxEntries: 2 });
    await cache.fill('a', async () => 'A');
    await cache.fill('b', async () => 'B');
    expect(cache.get('a')).to.equal('A'); // a is now the most recently used
    await cache.fill('c', async () => 'C');
    expect(cache.size).to.equal(2);
    expect(cache.get('b')).to.equal(undefined);
    expect(cache.get('a')).to.equal('A');
    expect(cache.get('c')).to.equal('C');
  });

  it('when an entry outlives its TTL, then it is no longer served', async () => {
    let now = 1000;
    const cache = liveCache({ ttlMs: 50, now: () => now });
    await cache.fill('a', async () => 'A');
    now += 49;
    expect(cache.get('a')).to.equal('A');
    now += 1;
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('when invalidations pile up during a long fill beyond maxEntries, then the cache flushes instead of growing', async () => {
    const cache = liveCache({ maxEntries: 3 });
    await cache.fill('keep', async () => 'K');
    const load = deferred<string>();
    const filling = cache.fill('slow', () => load.promise);
    cache.invalidate(['x1', 'x2', 'x3', 'x4']);
    load.resolve('S');
    expect((await filling).stored).to.equal(false);
    expect(cache.get('keep')).to.equal(undefined);
  });

  describe('groups (every page of one topic)', () => {
    it("when a topic's group is invalidated, then every page of it is dropped and other topics' pages stay", async () => {
      const cache = liveCache();
      await cache.fill('t:a', async () => 'a, first page'); // the default page is keyed by the group's own name
      await cache.fill('t:a\n1\n', async () => 'a, limit 1', 't:a');
      await cache.fill('t:a\n1\nCURSOR', async () => 'a, page 2', 't:a');
      await cache.fill('t:b\n1\n', async () => 'b, limit 1', 't:b');
      expect(cache.invalidate(['t:a'])).to.equal(3);
      for (const key of ['t:a', 't:a\n1\n', 't:a\n1\nCURSOR']) expect(cache.get(key), key).to.equal(undefined);
      expect(cache.get('t:b\n1\n')).to.equal('b, limit 1');
      expect(cache.size).to.equal(1);
    });

    it('when a page fill is in flight as its topic is invalidated, then it is not stored; a fill for another topic is', async () => {
      const cache = liveCache();
      const page = deferred<string>();
      const other = deferred<string>();
      const filling = cache.fill('t:a\n5\nCURSOR', () => page.promise, 't:a');
      const fillingOther = cache.fill('t:b\n5\nCURSOR', () => other.promise, 't:b');
      cache.invalidate(['t:a']);
      page.resolve('old page');
      other.resolve('b page');
      expect(await filling).to.deep.equal({ value: 'old page', stored: false });
      expect((await fillingOther).stored).to.equal(true);
      expect(cache.get('t:a\n5\nCURSOR')).to.equal(undefined);
      expect((await cache.fill('t:a\n5\nCURSOR', async () => 'new page', 't:a')).stored).to.equal(true);
    });

    it('when far more pages are filled than maxEntries, then the cache holds maxEntries, and a group drops only the pages it still holds', async () => {
      const cache = liveCache({ maxEntries: 10 });
      for (let i = 0; i < 100; i++) await cache.fill(`t:a\n1\n${i}`, async () => `a${i}`, 't:a');
      expect(cache.size).to.equal(10);
      expect(cache.get('t:a\n1\n99')).to.equal('a99');
      expect(cache.get('t:a\n1\n89')).to.equal(undefined);
      for (let i = 0; i < 10; i++) await cache.fill(`t:b\n1\n${i}`, async () => `b${i}`, 't:b');
      expect(cache.invalidate(['t:a']), "a's pages were all evicted").to.equal(0);
      expect(cache.size).to.equal(10);
      expect(cache.invalidate(['t:b'])).to.equal(10);
      expect(cache.size).to.equal(0);
    });

    it('when a page expires or is stored again, then it leaves its group with it', async () => {
      let now = 1000;
      const cache = liveCache({ ttlMs: 50, now: () => now });
      await cache.fill('t:a\n1\nX', async () => 'old', 't:a');
      await cache.fill('t:a\n1\nX', async () => 'again', 't:a');
      await cache.fill('t:a\n1\nY', async () => 'y', 't:a');
      now += 50;
      expect(cache.get('t:a\n1\nY')).to.equal(undefined);
      expect(cache.invalidate(['t:a'])).to.equal(1, 'X once, Y gone with its TTL');
      expect(cache.size).to.equal(0);
    });
  });
});
