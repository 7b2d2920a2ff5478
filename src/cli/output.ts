/** Human tables for people, the API's JSON for scripts (--json). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export type Cell = string | number | boolean | null | undefined;

export function printTable(headers: string[], rows: Cell[][]): void {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(headers.map((h) => h.toUpperCase()))}\n`);
  for (const row of text) process.stdout.write(`${line(row)}\n`);
  if (rows.length === 0) process.stdout.write('(none)\n');
}

export function printFields(fields: Array<[string, Cell | Cell[]]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [key, value] of fields) {
    const shown = Array.isArray(value) ? value.join(' ') || '-' : value === null || value === undefined || value === '' ? '-' : String(value);
    process.stdout.write(`${key.padEnd(width)}  ${shown}\n`);
  }
}
