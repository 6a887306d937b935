/**
 * A tunnel's call trace: the page (GET /console/tunnels/:name/trace, filters in the URL from a GET
 * form, paged by id) and the JSON the client script polls for new calls (trace.json?after=ID with
 * the same filters), whose rows come rendered by the same component as the page's.
 */
import { Hono } from "hono";
import type { StoredTrace } from "../../../durable-objects/tunnel-relay/trace-store.ts";
import { type TraceQuery, TraceQuerySchema } from "../../../src/audit/trace-query.ts";
import { Table } from "../../../src/console/components/table.tsx";
import { TRACE_COLUMNS, TraceRow } from "../../../src/console/components/trace-row.tsx";
import { Pager } from "../../../src/console/components/widgets.tsx";
import { parseInput } from "../../../src/validation/parse-input.ts";
import type { ConsoleEnv } from "../../env.ts";
import { namedTunnelStub } from "../tunnels.ts";
import { renderPage } from "./render.tsx";
import { tunnelTraces } from "./tunnel-data.ts";

export const tunnelTraceRoutes = new Hono<ConsoleEnv>();

export const TRACE_PAGE_ROWS = 50;
/** New calls one poll returns at most; a burst beyond shows its newest. */
const POLL_ROWS = 200;
const FILTERS = ["server", "tool", "status", "session"] as const;

/** The query of a trace page or poll: empty form fields mean "any". */
export function traceQuery(raw: Record<string, string>, limit: number): TraceQuery {
  const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ""));
  return parseInput(TraceQuerySchema, { ...given, limit }, "trace filter");
}

/** The filters as URL parameters (no cursor), for links and the poll URL. */
export function filterParams(query: TraceQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = query[name];
    if (value !== undefined) params.set(name, value);
  }
  return params;
}

function withParams(path: string, params: URLSearchParams): string {
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

tunnelTraceRoutes.get("/tunnels/:name/trace", async (c) => {
  const name = c.req.param("name");
  namedTunnelStub(c.env, name);
  const query = traceQuery(c.req.query(), TRACE_PAGE_ROWS);
  const page = await tunnelTraces(c.env, name, query);
  const base = `/console/tunnels/${name}/trace`;
  return renderPage(
    c,
    { title: `Trace of ${name}`, section: "tunnels" },
    <>
      <p class="breadcrumb">
        <a href="/console/tunnels">Tunnels</a> / <a href={`/console/tunnels/${name}`}>{name}</a>
      </p>
      <h1>Call trace of {name}</h1>
      <TraceFilterForm action={base} query={query} />
      <TraceTable tunnel={name} query={query} rows={page.rows} live={query.before === undefined} />
      <Pager
        label="Trace"
        next={page.next}
        isFirst={query.before === undefined}
        href={(cursor) => {
          const params = filterParams(query);
          if (cursor !== null) params.set("before", cursor);
          return withParams(base, params);
        }}
      />
    </>,
  );
});

tunnelTraceRoutes.get("/tunnels/:name/trace.json", async (c) => {
  const name = c.req.param("name");
  namedTunnelStub(c.env, name);
  const raw = c.req.query();
  const query = traceQuery(raw, raw.after === undefined ? TRACE_PAGE_ROWS : POLL_ROWS);
  const page = await tunnelTraces(c.env, name, query);
  const rows = await Promise.all(
    page.rows.map(async (trace) => ({ ...trace, html: String(await (<TraceRow trace={trace} fresh />).toString()) })),
  );
  const lastId = Math.max(query.after ?? 0, ...page.rows.map((row) => row.id));
  return c.json({ rows, lastId, next: page.next });
});

export function TraceFilterForm(props: { action: string; query: TraceQuery }) {
  const q = props.query;
  return (
    <form method="get" action={props.action} class="panel" aria-label="Filter the call trace">
      <div class="form-row">
        <div class="field">
          <label for="filter-server">Server</label>
          <input id="filter-server" name="server" value={q.server ?? ""} />
        </div>
        <div class="field">
          <label for="filter-tool">Tool</label>
          <input id="filter-tool" name="tool" value={q.tool ?? ""} />
        </div>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" name="status">
            <option value="" selected={q.status === undefined}>
              Any
            </option>
            <option value="ok" selected={q.status === "ok"}>
              OK
            </option>
            <option value="error" selected={q.status === "error"}>
              Failed
            </option>
          </select>
        </div>
        <div class="field">
          <label for="filter-session">Session</label>
          <input id="filter-session" name="session" value={q.session ?? ""} />
        </div>
        <button type="submit">Filter</button>
        <a class="button secondary" href={props.action}>
          Clear filters
        </a>
      </div>
    </form>
  );
}

/** The trace table; on the newest page it is live (the client script polls trace.json). */
export function TraceTable(props: { tunnel: string; query: TraceQuery; rows: StoredTrace[]; live: boolean }) {
  const pollUrl = withParams(`/console/tunnels/${props.tunnel}/trace.json`, filterParams(props.query));
  return (
    <>
      <p id="trace-live-status" class="live-status" aria-live="polite" />
      <Table
        id="trace"
        caption="Relayed calls, newest first"
        columns={TRACE_COLUMNS}
        rows={props.rows.map((trace) => <TraceRow trace={trace} />)}
        empty="No calls match."
        live={props.live ? { url: pollUrl, lastId: props.rows[0]?.id ?? 0, status: "trace-live-status" } : undefined}
      />
    </>
  );
}
