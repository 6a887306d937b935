/**
 * Aligned plain-text tables for `tether inspect` and the figures in their cells. Columns are as
 * wide as their widest cell; numeric columns are right-aligned so digits line up. No colours and
 * no box drawing: the output pastes cleanly into tickets and greps well.
 */
export interface Column {
  header: string;
  /** Right-aligned (numbers, durations, sizes). */
  right?: boolean;
}

/** A table; "(none)" under the headers when there are no rows. Control characters in cells are shown escaped. */
export function renderTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = rows.map((row) => columns.map((_, index) => printable(row[index] ?? "")));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((row) => (row[index] ?? "").length)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        return columns[index]?.right ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const out = [line(columns.map((column) => column.header))];
  if (cells.length === 0) out.push("(none)");
  for (const row of cells) out.push(line(row));
  return out.join("\n");
}

/** A titled section: the title, then the table. */
export function section(title: string, body: string): string {
  return `${title}\n${body}`;
}

/** Line feeds, tabs and other control characters would break the alignment. */
function printable(cell: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is replaced
  return cell.replace(/[\u0000-\u001f\u007f]/g, (char) => JSON.stringify(char).slice(1, -1));
}

/** "-" for no value, else milliseconds below 10 s ("12 ms", "1,250 ms"), seconds above ("42.0 s"). */
export function formatMs(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 10_000) return `${ms.toLocaleString("en-US")} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Calls per minute over a window of `windowMs`, one decimal. */
export function formatRate(calls: number, windowMs: number): string {
  return (calls / (windowMs / 60_000)).toFixed(1);
}

/** The share of failed calls, "-" without calls. */
export function formatErrorRate(errors: number, calls: number): string {
  return calls === 0 ? "-" : `${((errors / calls) * 100).toFixed(1)}%`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "-";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** How long ago (or, for a future time, in how long) `at` was, coarsely: "12s ago", "3m ago", "in 2h". */
export function formatAge(at: number | string | null, now: number): string {
  if (at === null) return "-";
  const ms = typeof at === "string" ? Date.parse(at) : at;
  if (Number.isNaN(ms)) return String(at);
  const delta = Math.abs(now - ms);
  const text =
    delta < 60_000
      ? `${Math.floor(delta / 1000)}s`
      : delta < 3_600_000
        ? `${Math.floor(delta / 60_000)}m`
        : delta < 86_400_000
          ? `${Math.floor(delta / 3_600_000)}h`
          : `${Math.floor(delta / 86_400_000)}d`;
  return ms > now ? `in ${text}` : `${text} ago`;
}
