#!/usr/bin/env node
// `npm run check:docs`: every relative link and `#anchor` in the project's Markdown files must resolve, so a page
// that moves or a heading that is renamed breaks the build instead of a reader's click. Anchors follow GitHub's
// heading slugs, since that is where the docs are read. Plain Node, no dependency: it runs before anything is built.
//
//   node scripts/check-docs.js              every Markdown file git tracks (or would track: new, not ignored)
//   node scripts/check-docs.js a.md b.md    just these files
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/**
 * GitHub's heading slug (github-slugger): lower-case, drop everything but letters, marks, digits, connector
 * punctuation (`_`), hyphens and spaces, then each space becomes a hyphen. `seen` numbers repeats: x, x-1, x-2.
 */
function slugify(text, seen = new Map()) {
  const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
  let slug = base;
  let count = seen.get(base) ?? 0;
  while (seen.has(slug)) slug = `${base}-${++count}`;
  seen.set(base, count);
  seen.set(slug, 0);
  return slug;
}

/** The text GitHub renders for a heading's Markdown: code spans kept verbatim, links and emphasis unwrapped. */
function headingText(markdown) {
  return markdown
    .split(/(`+[^`]*`+)/)
    .map((part, i) => {
      if (i % 2 === 1) return part.replace(/^`+\s?|\s?`+$/g, '');
      return part
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // [text](url), ![alt](src)
        .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1') // [text][ref]
        .replace(/<[^>]+>/g, '') // inline HTML
        .replace(/\\([!-/:-@[-`{-~])/g, '$1') // backslash escapes
        .replace(/(^|[^\p{L}\p{N}_])_+(?=\S)/gu, '$1') // _emphasis_ opening
        .replace(/(?<=\S)_+(?=$|[^\p{L}\p{N}_])/gu, ''); // _emphasis_ closing
    })
    .join('')
    .trim();
}

/** Lines outside fenced code blocks, with code spans blanked so a link shown as code is not taken for one. */
function proseLines(text) {
  const out = [];
  let fence;
  text.split('\n').forEach((line, index) => {
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (opening && opening[1][0] === fence[0] && opening[1].length >= fence.length && !line.slice(opening[0].length).trim()) fence = undefined;
      return;
    }
    if (opening) {
      fence = opening[1];
      return;
    }
    if (/^( {4}|\t)/.test(line) && (out.length === 0 || out[out.length - 1].text.trim() === '' || out[out.length - 1].indented)) {
      out.push({ number: index + 1, text: '', indented: true }); // an indented code block
      return;
    }
    out.push({ number: index + 1, text: line.replace(/(`+)[^`]*?\1/g, (span) => ' '.repeat(span.length)), raw: line });
  });
  return out;
}

/** Every anchor a Markdown file offers: its headings' slugs and explicit `id`/`name` attributes. */
function anchorsOf(text) {
  const anchors = new Set();
  const seen = new Map();
  const lines = proseLines(text);
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(line.raw ?? '');
    const next = lines[i + 1];
    if (atx) anchors.add(slugify(headingText(atx[1] ?? ''), seen));
    else if (line.raw?.trim() && next?.number === line.number + 1 && /^ {0,3}(=+|-+)\s*$/.test(next.raw ?? '') && !/^\s*([-*+]|\d+[.)])\s|^\s*>|\|/.test(line.raw)) {
      anchors.add(slugify(headingText(line.raw.trim()), seen)); // a setext heading (text underlined by === or ---)
    }
    for (const match of (line.raw ?? '').matchAll(/<[^>]*\s(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(match[1]);
  });
  return anchors;
}

/** Every link target in a Markdown file, with its line: inline links and images, reference definitions, HTML. */
function linksOf(text) {
  const links = [];
  for (const line of proseLines(text)) {
    const patterns = [
      /\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g,
      /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/g,
      /<(?:a|img)\b[^>]*\s(?:href|src)\s*=\s*["']([^"']+)["']/gi,
    ];
    for (const pattern of patterns) {
      for (const match of line.text.matchAll(pattern)) links.push({ line: line.number, target: match[1].replace(/^<|>$/g, '') });
    }
  }
  return links;
}

const isExternal = (target) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/**
 * Checks the given Markdown files; returns one message per broken link ("file:line: ..."), empty when all resolve.
 * A link starting with `/` is taken from `base` (the repository root), as GitHub does.
 */
function checkDocs(files, base = root) {
  const problems = [];
  const anchorCache = new Map();
  const anchorsIn = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(fs.readFileSync(file, 'utf8')));
    return anchorCache.get(file);
  };
  for (const file of files) {
    const where = path.relative(process.cwd(), file) || file;
    for (const { line, target } of linksOf(fs.readFileSync(file, 'utf8'))) {
      if (isExternal(target)) continue;
      const hash = target.indexOf('#');
      const rawPath = hash === -1 ? target : target.slice(0, hash);
      const anchor = hash === -1 ? undefined : target.slice(hash + 1);
      let decoded;
      try {
        decoded = decodeURIComponent(rawPath.split('?')[0]);
      } catch {
        problems.push(`${where}:${line}: link '${target}' is not a valid URL`);
        continue;
      }
      const resolved = decoded === '' ? file : decoded.startsWith('/') ? path.join(base, decoded) : path.resolve(path.dirname(file), decoded);
      if (!fs.existsSync(resolved)) {
        problems.push(`${where}:${line}: link '${target}' points to ${path.relative(process.cwd(), resolved)}, which does not exist`);
        continue;
      }
      if (anchor === undefined || anchor === '' || !/\.md$/i.test(resolved) || fs.statSync(resolved).isDirectory()) continue;
      let wanted;
      try {
        wanted = decodeURIComponent(anchor);
      } catch {
        wanted = anchor;
      }
      if (!anchorsIn(resolved).has(wanted)) {
        problems.push(`${where}:${line}: link '${target}' names #${anchor}, but ${path.relative(process.cwd(), resolved)} has no such heading`);
      }
    }
  }
  return problems;
}

/** The project's Markdown files: tracked, or new and not ignored; without git, every .md outside node_modules. */
function markdownFiles(dir = root) {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '*.md', '*.MD'], { cwd: dir, encoding: 'utf8' });
  if (git.status === 0) {
    return [...new Set(git.stdout.split('\0').filter(Boolean))].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
  }
  const found = [];
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.md$/i.test(entry.name)) found.push(full);
    }
  };
  walk(dir);
  return found;
}

function main(argv) {
  const files = argv.length > 0 ? argv.map((f) => path.resolve(f)) : markdownFiles();
  const problems = checkDocs(files);
  for (const problem of problems) process.stderr.write(`check-docs: ${problem}\n`);
  const count = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
  process.stdout.write(`check-docs: ${count(files.length, 'Markdown file')}, ${count(problems.length, 'broken link')}\n`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = { checkDocs, slugify, headingText, anchorsOf, linksOf, markdownFiles };
