/**
 * A data table as every console list draws it: a caption, column headers with `scope`, a wrapper
 * that scrolls sideways on a narrow screen (focusable, so keyboard users can scroll it too), and
 * one row saying so when there is nothing to show.
 */
import type { Child } from "hono/jsx";

export interface Column {
  label: string;
  /** Right-aligned, tabular figures. */
  num?: boolean;
}

export function Table(props: {
  id?: string;
  caption: string;
  columns: Column[];
  rows: Child[];
  empty: string;
  /** Extra attributes for the table (the live trace's data-* hooks). */
  live?: { url: string; lastId: number; status: string };
}) {
  return (
    <section class="table-wrap" tabindex={0} aria-label={props.caption}>
      <table
        id={props.id}
        data-live-url={props.live?.url}
        data-last-id={props.live ? String(props.live.lastId) : undefined}
        data-live-status={props.live?.status}
      >
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col" class={column.num ? "num" : undefined}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length > 0 ? (
            props.rows
          ) : (
            <tr class="empty-row">
              <td colspan={props.columns.length} class="empty">
                {props.empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
