/** Terminal output: aligned tables, with colour only when a person is watching (a TTY, and NO_COLOR unset). */
export interface Style {
  bold(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  dim(text: string): string;
}

const paint = (code: number) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;
const plain = (text: string) => text;

export function makeStyle(colour: boolean): Style {
  return colour
    ? { bold: paint(1), green: paint(32), yellow: paint(33), red: paint(31), dim: paint(2) }
    : { bold: plain, green: plain, yellow: plain, red: plain, dim: plain };
}

const ANSI = /\x1b\[[0-9;]*m/g;
const width = (text: string) => [...text.replace(ANSI, '')].length;

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Columns padded to their widest cell; numbers right-aligned; the last column is not padded. */
export function table(columns: Column[], rows: string[][], style: Style): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i] - width(cell));
        if (columns[i].align === 'right') return pad + cell;
        return i === cells.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [style.bold(line(columns.map((c) => c.header))), ...rows.map(line)].join('\n') + '\n';
}

/** "Key  value" pairs, keys aligned: one record (a book, an order) for people. */
export function record(pairs: [string, string][], style: Style): string {
  const keyWidth = Math.max(...pairs.map(([k]) => width(k)));
  return pairs.map(([k, v]) => `${style.bold(k.padEnd(keyWidth))}  ${v}`).join('\n') + '\n';
}

export function stockText(stock: number, style: Style): string {
  if (stock <= 0) return style.red('sold out');
  if (stock <= 2) return style.yellow(String(stock));
  return style.green(String(stock));
}
