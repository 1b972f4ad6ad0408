// Aligned columns as Docker prints them: a port of Go's text/tabwriter (docker's fork of it,
// cli/command/formatter/tabwriter) with docker's settings — minwidth 10, tabwidth 1, padding 3,
// padchar ' ', no flags. Cells are tab-terminated; the last cell of a line is not padded; a
// column's width is computed over each block of consecutive lines that have that column, and
// a line with a single cell ends all blocks (the writer flushes there).

interface Cell { text: string; width: number }

export interface TabwriterOptions { minwidth?: number; padding?: number }

/** Display width as go-runewidth counts it: East Asian wide characters count 2, combining marks 0. */
export function displayWidth(s: string): number {
  if (/^[\x20-\x7e]*$/.test(s)) return s.length; // printable ASCII: the common case, fast
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (/\p{Mn}|\p{Me}|\p{Cf}/u.test(ch) || c < 0x20) continue;
    w += isWide(c) ? 2 : 1;
  }
  return w;
}

function isWide(c: number): boolean {
  return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) || (c >= 0xac00 && c <= 0xd7a3)
    || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6)
    || (c >= 0x1f300 && c <= 0x1f64f) || (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd);
}

/** Formats text written to a tabwriter (then flushed), as Go's Writer would print it. */
export function tabwrite(text: string, o: TabwriterOptions = {}): string {
  const minwidth = o.minwidth ?? 10;
  const padding = o.padding ?? 3;
  let out = '';
  let lines: Cell[][] = [[]];
  let cell = '';
  let widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!;
      line.forEach((c, j) => {
        out += c.text;
        if (j < widths.length) out += ' '.repeat(widths[j]! - c.width);
      });
      if (i + 1 === lines.length) out += cell;
      else out += '\n';
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur]!.length - 1) continue;
      // cell exists in this column: this line starts a block
      writeLines(line0, cur);
      line0 = cur;
      let width = minwidth;
      for (; cur < line1; cur++) {
        const line = lines[cur]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column]!.width + padding);
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      line0 = cur;
    }
    writeLines(line0, line1);
  };

  const flush = (): void => {
    format(0, lines.length);
    lines = [[]];
    widths = [];
  };

  const terminateCell = (): number => {
    const line = lines[lines.length - 1]!;
    line.push({ text: cell, width: displayWidth(cell) });
    cell = '';
    return line.length;
  };

  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') continue;
    cell += text.slice(start, i);
    start = i + 1;
    const ncells = terminateCell();
    if (ch === '\n' || ch === '\f') {
      lines.push([]);
      if (ch === '\f' || ncells === 1) flush();
    }
  }
  cell += text.slice(start);
  if (cell.length > 0) terminateCell();
  flush();
  return out;
}

/** Rows of cells printed as docker's table writer prints `a\tb\tc\n` lines. */
export function table(rows: string[][], o: TabwriterOptions = {}): string {
  return tabwrite(rows.map((r) => `${r.join('\t')}\n`).join(''), o);
}
