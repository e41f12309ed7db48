import type { CliSession } from './io';

/** What a cell may hold; absent values show as `-`. */
export type Cell = string | number | boolean | null | undefined;

/**
 * A field of the row, headed by its name as --json prints it (`waitingFor` → `WAITING FOR`), or a header and
 * how to compute the cell.
 */
export type Column<T> = (keyof T & string) | readonly [header: string, value: (row: T) => Cell];

export type Columns<T> = readonly Column<T>[];

function headerOf<T>(column: Column<T>): string {
  return typeof column === 'string' ? column.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase() : column[0];
}

function cellOf<T>(column: Column<T>, row: T): Cell {
  return typeof column === 'string' ? (row[column] as Cell) : column[1](row);
}

function text(cell: Cell): string {
  if (cell === undefined || cell === null || cell === '') return '-';
  return String(cell).replace(/\s*\n\s*/g, ' ');
}

/** Left-aligned columns two spaces apart, a header row first; the last column is not padded. */
export function formatTable<T>(rows: readonly T[], columns: Columns<T>): string {
  const cells = [
    columns.map(headerOf),
    ...rows.map((row) => columns.map((column) => text(cellOf(column, row)))),
  ];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => (line[index] ?? '').length)));
  return cells
    .map((line) =>
      line
        .map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `name  value` lines for one record, in the order given, skipping absent values. */
export function formatRecord(
  record: Readonly<Record<string, unknown>>,
  order: readonly string[] = [],
): string {
  const keys = [
    ...order.filter((key) => key in record),
    ...Object.keys(record).filter((key) => !order.includes(key)),
  ];
  const present = keys.filter((key) => record[key] !== undefined && record[key] !== null);
  const width = Math.max(0, ...present.map((key) => key.length));
  return present
    .map((key) => {
      const value = record[key];
      return `${key.padEnd(width)}  ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
    })
    .join('\n');
}

export function printJson(cli: CliSession, value: unknown): void {
  cli.print(JSON.stringify(value, null, 2));
}

/**
 * A listing: the table (or a sentence when empty), then how to get the rest when more pages remain.
 * With `json`, the page itself, so that a script can pass `nextCursor` back with --cursor.
 */
export function printPage<T>(
  cli: CliSession,
  page: { readonly items: readonly T[]; readonly nextCursor: string | null },
  columns: Columns<T>,
  options: { readonly json?: boolean; readonly empty: string },
): void {
  if (options.json) {
    printJson(cli, page);
    return;
  }
  cli.print(page.items.length === 0 ? options.empty : formatTable(page.items, columns));
  if (page.nextCursor !== null) {
    cli.print(`\nMore: add --all, or --cursor ${page.nextCursor}`);
  }
}
