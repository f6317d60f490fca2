/**
 * Tables a person reads, drawn by cli-table3: a header row, numbers aligned
 * right, strings as they are (no index column, no quotes). Colour comes from
 * picocolors, and only when stdout is a terminal and NO_COLOR is unset.
 */
import Table from 'cli-table3';
import pc from 'picocolors';

export type Cell = string | number;
export type Row = Readonly<Record<string, Cell>>;

/** Colour for this process's stdout: on a TTY without NO_COLOR, none otherwise. */
export const colour = pc.createColors(process.stdout.isTTY && !('NO_COLOR' in process.env));

/** `rows` as a table, the columns in the order the first row names them (and any the others add); `wrap` gives a column a width to wrap its words at. */
export function table(rows: readonly Row[], wrap: Readonly<Record<string, number>> = {}): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const widths = columns.map((c) => wrap[c] ?? null);
  const drawn = new Table({
    head: columns.map((c) => colour.bold(c)), style: { head: [], border: [], compact: true },
    ...(widths.some((w) => w !== null) ? { colWidths: widths, wordWrap: true } : {}),
  });
  for (const row of rows) {
    drawn.push(columns.map((column) => {
      const value = row[column];
      return typeof value === 'number' ? { content: value.toLocaleString('en-US', { maximumFractionDigits: 3 }), hAlign: 'right' as const } : value ?? '';
    }));
  }
  return drawn.toString();
}

export function printTable(rows: readonly Row[], wrap: Readonly<Record<string, number>> = {}): void {
  console.log(table(rows, wrap));
}
