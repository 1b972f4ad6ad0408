// Aligned columns as Docker prints them (Go's text/tabwriter with padding 3).
export function table(rows: string[][], padding = 3): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + padding))).join('').trimEnd()).join('\n') + '\n';
}
