import { toPage, type PageRequest } from '../../common/paging';
import { normalizeTopic } from '../../common/topic';
import type { TopicPage } from './types';

/**
 * listTopics() on any backend (the same SQL on both): one row per topic key without reading every book, a loose
 * index scan that jumps from each key to the next (one index seek per topic), then the spelling of each key's first
 * book. The final ORDER BY sorts the keys found, one per topic.
 */
export const TOPICS_SQL = `WITH RECURSIVE keys (k) AS (
    SELECT min(topic_key) FROM books
    UNION ALL
    SELECT (SELECT min(topic_key) FROM books WHERE topic_key > k) FROM keys WHERE k IS NOT NULL)
  SELECT (SELECT topic FROM books WHERE topic_key = k ORDER BY id LIMIT 1) AS topic
  FROM keys WHERE k IS NOT NULL ORDER BY k`;

interface TopicRow {
  id: number;
  title: string;
  topic: string;
}

/** What a backend reads for findByTopic(): the page's rows, and the topic's spelling (that of its first book). */
export interface TopicReads {
  /** Up to `limit + 1` rows of the topic, as toPage() expects them (descending ids when asked `before`). */
  rows(key: string, page: PageRequest): Promise<TopicRow[]>;
  name(key: string): Promise<string | undefined>;
}

/**
 * findByTopic() on any backend. The first page's first row is the topic's first book, so its spelling comes with
 * it; a later page (or an empty one) asks for the spelling, so every page of a topic names it the same way.
 */
export async function readTopicPage(topic: string, page: PageRequest, reads: TopicReads): Promise<TopicPage | null> {
  const key = normalizeTopic(topic);
  const rows = await reads.rows(key, page);
  const fromStart = page.after === undefined && page.before === undefined;
  const name = fromStart ? rows[0]?.topic : await reads.name(key);
  if (name === undefined) return null;
  const { items, next, prev } = toPage(rows, page, (row) => row.id);
  return { topic: name, items: items.map(({ id, title }) => ({ id, title })), next, prev };
}
