import { toPage, type PageRequest } from '../../common/paging';
import { normalizeTopic } from '../../common/topic';
import type { TopicPage } from './types';

/**
 * The topics, one row per topic key spelled as its first book (lowest id) spells it, kept in their own table so
 * that listing them reads one row per topic, not every book. Books are only ever added by seeding (no route adds or
 * re-topics one), and the seed fills this table in its own transaction with FILL_TOPICS_SQL, as the schema step
 * that made the table did. A write that ever adds books or changes a topic must run it too, in its transaction.
 *
 * FILL_TOPICS_SQL fills an empty topics table from the books (the same SQL on both backends). A schema step runs it
 * too: change it only together with a new step that brings existing databases along.
 */
export const FILL_TOPICS_SQL = `INSERT INTO topics (topic_key, topic)
  SELECT k.topic_key, (SELECT b.topic FROM books b WHERE b.topic_key = k.topic_key ORDER BY b.id LIMIT 1)
  FROM (SELECT DISTINCT topic_key FROM books) AS k`;

export const TOPICS_SQL = 'SELECT topic FROM topics ORDER BY topic_key';

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
