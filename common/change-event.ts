/**
 * The catalog's change stream (GET /events, server-sent events) as both ends read it: the catalog writes these
 * (catalog-server/events/change-feed.ts), each caching frontend applies them (frontend-server/cache/).
 */

/** What a committed write changed; `'all'` when it touched every book (restock). */
export interface Change {
  ids: number[] | 'all';
  /** Normalized topic keys (normalizeTopic) whose search answers may have changed. */
  topics: string[] | 'all';
}

/** `event: change`: one committed write, numbered so a subscriber can notice a gap. */
export interface ChangeEvent extends Change {
  seq: number;
}

/** `event: hello`: the first frame of every stream. */
export interface ChangeHello {
  /** The id this subscriber acknowledges with (POST /events/ack). */
  subscriber: string;
  /** Every event up to this one happened before the stream opened. */
  seq: number;
  /** How long the catalog waits for an ack before cutting the subscriber off. */
  ackTimeoutMs: number;
}
