const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const escapeOne = (c: string): string => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

// What JSON.stringify leaves raw but a terminal acts on: DEL, C1 controls, line separators, bidi controls.
const JSON_RAW = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Human tables for people, the API's JSON for scripts (--json): the same JSON, with those characters as `\u` escapes too. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2).replace(JSON_RAW, escapeOne)}\n`);
}

/** A failure for scripts (`--json`): the error object as JSON on stderr. */
export function printJsonError(value: unknown): void {
  process.stderr.write(`${JSON.stringify(value, null, 2).replace(JSON_RAW, escapeOne)}\n`);
}

/** One compact JSON value per line (`audit --follow --json`). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value).replace(JSON_RAW, escapeOne)}\n`);
}

export type Cell = string | number | boolean | null | undefined;

// C0 controls, DEL, C1 controls (U+009B is a CSI), line/paragraph separators, bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same but newline and tab, for text that is shown as lines (an API response body).
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from the API or an upstream (names, paths, reasons) as a terminal may
 * show it: every control character escaped, so a value cannot end a line,
 * move the cursor, recolour or reorder what follows it and forge output.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/** A template with every interpolated value escaped; the template's own text (ours) is kept as written. */
export function escaped(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, s, i) => out + escapeControls(String(values[i - 1])) + s);
}

/** Writes `escaped` text to stdout: say`agent ${name} removed\n`. */
export function say(strings: TemplateStringsArray, ...values: unknown[]): void {
  process.stdout.write(escaped(strings, ...values));
}

/** `say` for stderr. */
export function sayError(strings: TemplateStringsArray, ...values: unknown[]): void {
  process.stderr.write(escaped(strings, ...values));
}

/** Multi-line text (an API response body): lines and tabs kept, every other control character escaped. */
export function printText(text: string): void {
  const shown = text.replace(CONTROL_BUT_LINES, escapeOne);
  process.stdout.write(shown.endsWith('\n') ? shown : `${shown}\n`);
}

const shownCell = (c: Cell): string => (c === null || c === undefined || c === '' ? '-' : escapeControls(String(c)));

/** One table row as a line (what `audit --follow` prints as events arrive). */
export function printRow(cells: Cell[]): void {
  process.stdout.write(`${cells.map(shownCell).join('  ')}\n`);
}

/** Each column as wide as its header or widest cell (cells already shown). */
const widthsOf = (headers: string[], rows: string[][]): number[] => headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));

/** One line of a table: cells padded to the column widths, the last left as it is. */
const tableLine = (widths: number[], cells: string[]): string =>
  cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();

export function printTable(headers: string[], rows: Cell[][]): void {
  const text = rows.map((r) => r.map(shownCell));
  const widths = widthsOf(headers, text);
  process.stdout.write(`${tableLine(widths, headers.map((h) => h.toUpperCase()))}\n`);
  for (const row of text) process.stdout.write(`${tableLine(widths, row)}\n`);
  if (rows.length === 0) process.stdout.write('(none)\n');
}

export function printFields(fields: Array<[string, Cell | Cell[]]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [key, value] of fields) {
    const shown = Array.isArray(value) ? value.map(shownCell).join(' ') || '-' : shownCell(value);
    process.stdout.write(`${key.padEnd(width)}  ${shown}\n`);
  }
}

/**
 * A list as it arrives page by page (the SDK's `iterate`): with `--json` one
 * JSON array, the same text `printJson` gives for the whole list; otherwise a
 * table whose column widths are set by the first page. Nothing waits for the
 * last page, and only one page is held in memory.
 */
export async function printList<T>(json: boolean, items: AsyncIterable<T>, headers: string[], row: (item: T) => Cell[]): Promise<void> {
  if (json) {
    let first = true;
    for await (const item of items) {
      const text = JSON.stringify(item, null, 2).replace(JSON_RAW, escapeOne).replace(/\n/g, '\n  ');
      process.stdout.write(`${first ? '[\n' : ',\n'}  ${text}`);
      first = false;
    }
    process.stdout.write(first ? '[]\n' : '\n]\n');
    return;
  }
  let widths: number[] | undefined;
  let batch: string[][] = [];
  const flush = (): void => {
    if (widths === undefined) {
      widths = widthsOf(headers, batch);
      process.stdout.write(`${tableLine(widths, headers.map((h) => h.toUpperCase()))}\n`);
    }
    for (const cells of batch) process.stdout.write(`${tableLine(widths, cells)}\n`);
    batch = [];
  };
  for await (const item of items) {
    batch.push(row(item).map(shownCell));
    if (batch.length >= 100) flush();
  }
  const none = widths === undefined && batch.length === 0;
  flush();
  if (none) process.stdout.write('(none)\n');
}
