/** Small pieces the console's pages share: times, pagers, notices, a secret shown once. */
import type { Child } from "hono/jsx";
import { formatTime, UNKNOWN } from "../format.ts";

export function Time(props: { ms: number | null | undefined }) {
  if (props.ms === null || props.ms === undefined) return <span class="muted">{UNKNOWN}</span>;
  return <time datetime={new Date(props.ms).toISOString()}>{formatTime(props.ms)}</time>;
}

/**
 * Links to the first and the next (older) page. `href(cursor)` builds a page's URL with the
 * current filters kept; `isFirst` hides the link back to the start on the first page.
 */
export function Pager(props: {
  label: string;
  next: string | number | null;
  isFirst: boolean;
  href: (cursor: string | null) => string;
}) {
  if (props.next === null && props.isFirst) return null;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      {!props.isFirst && <a href={props.href(null)}>Newest</a>}
      {props.next !== null ? (
        <a href={props.href(String(props.next))} rel="next">
          Older
        </a>
      ) : (
        <span class="muted">No older entries</span>
      )}
    </nav>
  );
}

/** The outcome of the action just done (after a redirect), announced to screen readers. */
export function Notice(props: { text: string | null; error?: boolean }) {
  if (!props.text) return null;
  return (
    <p class={props.error ? "notice error" : "notice"} role={props.error ? "alert" : "status"}>
      {props.text}
    </p>
  );
}

/** A secret shown once, right after it was created; the page says it will not be shown again. */
export function SecretOnce(props: { label: string; value: string; children?: Child }) {
  return (
    <div class="secret" role="status">
      <p>
        <strong>{props.label}</strong>: copy it now. It is shown only this once; Tether keeps only its hash.
      </p>
      <code data-testid="secret">{props.value}</code>
      {props.children}
    </div>
  );
}

export function StatusText(props: { ok: boolean; children?: Child }) {
  return <span class={props.ok ? "status-ok" : "status-error"}>{props.children}</span>;
}
