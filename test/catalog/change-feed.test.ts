import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { ChangeFeed } from '../../catalog-server/events/change-feed';

/** A subscriber's end of the stream: what the feed wrote, as frames. */
function subscriberStream() {
  const raw = new PassThrough() as PassThrough & { writeHead: () => void };
  raw.writeHead = () => undefined;
  const frames: string[] = [];
  let text = '';
  raw.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      frames.push(text.slice(0, end));
      text = text.slice(end + 2);
    }
  });
  return { raw: raw as unknown as ServerResponse, frames };
}

const changes = (frames: string[]) =>
  frames.filter((f) => f.includes('event: change')).map((f) => JSON.parse(f.slice(f.indexOf('data: ') + 6)));

describe('catalog: the change feed', () => {
  let feed: ChangeFeed;
  beforeEach(() => (feed = new ChangeFeed({ log: pino({ level: 'silent' }), ackTimeoutMs: 1000 })));
  afterEach(() => feed.close());

  it('when writes are published in one turn, then subscribers get one event naming all of them, and one ack answers every write', async () => {
    const { raw, frames } = subscriberStream();
    const id = feed.subscribe(raw);
    const answered: number[] = [];
    const writes = [
      feed.publish({ ids: [1], topics: ['distributed systems'] }).then(() => answered.push(1)),
      feed.publish({ ids: [2], topics: ['distributed systems'] }).then(() => answered.push(2)),
      feed.publish({ ids: [7], topics: ['graduate school'] }).then(() => answered.push(3)),
    ];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(changes(frames)).to.deep.equal([{ seq: 1, ids: [1, 2, 7], topics: ['distributed systems', 'graduate school'] }]);
    expect(answered, 'no write answered before the ack').to.deep.equal([]);
    expect(feed.ack(id, 1)).to.equal(true);
    await Promise.all(writes);
    expect(answered).to.have.members([1, 2, 3]);

    // A later turn is a new event, numbered next.
    const restock = feed.publish({ ids: 'all', topics: 'all' });
    const update = feed.publish({ ids: [3], topics: ['x'] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(changes(frames).slice(1)).to.deep.equal([{ seq: 2, ids: 'all', topics: 'all' }]);
    feed.ack(id, 2);
    await Promise.all([restock, update]);
  });

  it('when nobody is subscribed, then a write is answered at once and the sequence still moves on', async () => {
    await feed.publish({ ids: [1], topics: ['t'] });
    expect(feed.lastSeq).to.equal(1);
  });
});
