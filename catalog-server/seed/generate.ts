/**
 * A big catalog on demand, for trying the store (and measuring it) at scale:
 *
 *   npm run seed -- --books 100000 --out books.json      then   SEED_PATH=books.json npm start
 *
 * Deterministic (the same arguments give the same file, byte for byte), spread over 100 topics, and starting with
 * the report's four books, so `/lookup/1` and `/search/distributed-systems` mean the same at every size.
 * Without --out the JSON goes to stdout (use `npm run --silent seed` then, or npm's banner goes with it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Book } from '../../common/schemas';
import { DEFAULT_SEED_PATH } from '../config';

export const DEFAULT_TOPIC_COUNT = 100;

const PREFIXES = ['applied', 'advanced', 'practical', 'modern', 'classic', 'everyday', 'parallel', 'secure', 'gentle', 'quantum'];
const SUBJECTS = ['databases', 'networks', 'compilers', 'algorithms', 'cryptography', 'operating systems', 'cooking', 'statistics', 'graphics', 'consensus'];
const OPENINGS = ['The Art of', 'A Field Guide to', 'Notes on', 'Surviving', 'Thinking in', 'The Little Book of', 'Mastering', 'Lectures on'];
const ENDINGS = ['for Dummies', 'in 20 Minutes a Day', 'the Hard Way', 'for the Impatient', 'from Scratch', 'in Practice', 'Explained', 'Revisited'];

/** The report's two topics, then prefix × subject combinations, `count` in all (at most 102). */
export function seedTopics(count = DEFAULT_TOPIC_COUNT): string[] {
  const combos = PREFIXES.flatMap((prefix) => SUBJECTS.map((subject) => `${prefix} ${subject}`));
  return ['distributed systems', 'graduate school', ...combos].slice(0, count);
}

/**
 * A number in [0, 1) that looks random but depends only on the book's id and what is drawn (murmur3's finalizer),
 * so book 812 is the same book in a catalog of 1,000 and of 100,000.
 */
function draw(id: number, what: number): number {
  let h = Math.imul(id, 0x9e3779b1) ^ Math.imul(what + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** `count` books with ids 1..count: the report's four first, then generated ones on `topicCount` topics. */
export function generateBooks(count: number, topicCount = DEFAULT_TOPIC_COUNT): Book[] {
  const report = JSON.parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as Book[];
  const topics = seedTopics(topicCount);
  const books = report.slice(0, count);
  for (let id = books.length + 1; id <= count; id++) {
    const pick = <T>(list: readonly T[], what: number) => list[Math.floor(draw(id, what) * list.length)];
    const topic = pick(topics, 0);
    const subject = topic.replace(/^\S+ /, '');
    books.push({
      id,
      title: `${pick(OPENINGS, 1)} ${subject[0].toUpperCase()}${subject.slice(1)} ${pick(ENDINGS, 2)}, vol. ${id}`,
      topic,
      stock: Math.floor(draw(id, 3) * 21),
      price_cents: 500 + Math.floor(draw(id, 4) * 95) * 100,
    });
  }
  return books;
}

/** One book per line: a 100,000-book file stays readable with head and grep. */
export function booksJson(books: Book[]): string {
  return `[\n${books.map((book) => JSON.stringify(book)).join(',\n')}\n]\n`;
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: { books: { type: 'string' }, topics: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  const count = Number(values.books ?? 100_000);
  const topicCount = Number(values.topics ?? DEFAULT_TOPIC_COUNT);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--books must be a positive whole number, got '${values.books}'`);
  if (!Number.isSafeInteger(topicCount) || topicCount < 2 || topicCount > seedTopics(Infinity).length) {
    throw new Error(`--topics must be a whole number from 2 to ${seedTopics(Infinity).length}, got '${values.topics}'`);
  }
  const json = booksJson(generateBooks(count, topicCount));
  if (values.out) writeFileSync(values.out, json);
  else process.stdout.write(json);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`seed: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
