/**
 * One tunnel (GET /console/tunnels/:name): its status, gateways, servers, tokens, recent sessions,
 * settings and the live call trace; the sessions page (…/sessions) pages through all sessions.
 */
import { Hono } from "hono";
import { SessionQuerySchema } from "../../../src/audit/trace-query.ts";
import { CsrfField } from "../../../src/console/auth/csrf-field.tsx";
import { DeleteSection } from "../../../src/console/components/delete-section.tsx";
import { Table } from "../../../src/console/components/table.tsx";
import { Notice, Pager, Time } from "../../../src/console/components/widgets.tsx";
import { callRate, errorRate, latency, StatsList } from "../../../src/console/components/window-stats.tsx";
import { parseInput } from "../../../src/validation/parse-input.ts";
import type { ConsoleEnv } from "../../env.ts";
import { noticeText, renderPage } from "./render.tsx";
import { SessionsTable } from "./sessions-table.tsx";
import { tunnelDetail, tunnelMetrics, tunnelSessions, tunnelTraces } from "./tunnel-data.ts";
import { SettingsFields } from "./tunnel-settings-form.tsx";
import { TokensSection } from "./tunnel-tokens.tsx";
import { TraceTable, traceQuery } from "./tunnel-trace.tsx";

export const tunnelPageRoutes = new Hono<ConsoleEnv>();

/** Sessions and calls the tunnel page shows; their own pages show more. */
const PAGE_SESSIONS = 20;
const PAGE_TRACES = 20;
export const SESSIONS_PER_PAGE = 50;

tunnelPageRoutes.get("/tunnels/:name", async (c) => {
  const name = c.req.param("name");
  const query = traceQuery({}, PAGE_TRACES);
  const [detail, metrics, sessions, traces] = await Promise.all([
    tunnelDetail(c.env, name),
    tunnelMetrics(c.env, name),
    tunnelSessions(c.env, name, { limit: PAGE_SESSIONS }),
    tunnelTraces(c.env, name, query),
  ]);
  const windows = metrics?.windows ?? null;
  const servers = detail.gateways.flatMap((gateway) =>
    gateway.servers.map((server) => ({ ...server, gateway: gateway.id })),
  );
  const csrf = c.get("csrfToken");
  return renderPage(
    c,
    { title: `Tunnel ${name}`, section: "tunnels" },
    <>
      <p class="breadcrumb">
        <a href="/console/tunnels">Tunnels</a> / {name}
      </p>
      <h1>Tunnel {name}</h1>
      <Notice text={noticeText(c)} />
      <StatsList
        items={[
          ["Gateways connected", detail.gateways.length],
          ["Servers", new Set(servers.map((server) => server.name)).size],
          ["Calls/min (5 min)", callRate(windows, "5m")],
          ["Error rate (5 min)", errorRate(windows, "5m")],
          ["p50 / p99 (5 min)", latency(windows, "5m")],
          ["p50 / p99 (1 h)", latency(windows, "1h")],
        ]}
      />
      <p class="muted">
        Created <Time ms={detail.createdAt} />
        {detail.pendingGateways > 0 ? `; ${detail.pendingGateways} gateway(s) connecting` : ""}
      </p>

      <section aria-labelledby="gateways">
        <h2 id="gateways">Gateways</h2>
        <Table
          id="gateway-list"
          caption="Connected gateways"
          columns={[
            { label: "Gateway" },
            { label: "Version" },
            { label: "Connected since" },
            { label: "In flight", num: true },
            { label: "Draining" },
            { label: "Token" },
          ]}
          rows={detail.gateways.map((gateway) => (
            <tr>
              <td class="mono wrap">{gateway.id}</td>
              <td>{gateway.version}</td>
              <td>
                <Time ms={gateway.connectedAt} />
              </td>
              <td class="num">{gateway.inFlight}</td>
              <td>{gateway.draining ? <span class="status-warn">{gateway.draining}</span> : "no"}</td>
              <td class="mono">{gateway.tokenId}</td>
            </tr>
          ))}
          empty="No gateway is connected."
        />
      </section>

      <section aria-labelledby="servers">
        <h2 id="servers">Servers</h2>
        <Table
          id="server-list"
          caption="MCP servers behind the gateways"
          columns={[{ label: "Server" }, { label: "Kind" }, { label: "Allowed paths" }, { label: "Gateway" }]}
          rows={servers.map((server) => (
            <tr>
              <td>{server.name}</td>
              <td>{server.kind}</td>
              <td class="mono wrap">
                {server.allowPaths.length > 0 ? server.allowPaths.join(", ") : "MCP endpoint only"}
              </td>
              <td class="mono wrap">{server.gateway}</td>
            </tr>
          ))}
          empty="No servers: no gateway announced any."
        />
      </section>

      <TokensSection tunnel={name} tokens={detail.tokens} csrfToken={csrf} />

      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        <SessionsTable
          tunnel={name}
          sessions={sessions.rows}
          csrfToken={csrf}
          caption="Most recently used MCP sessions"
        />
        {sessions.next !== null && (
          <p>
            <a href={`/console/tunnels/${name}/sessions`}>All sessions</a>
          </p>
        )}
      </section>

      <section aria-labelledby="trace-heading">
        <h2 id="trace-heading">Live call trace</h2>
        <TraceTable tunnel={name} query={query} rows={traces.rows} live />
        <p>
          <a href={`/console/tunnels/${name}/trace`}>Filter and page through the whole trace</a>
        </p>
      </section>

      <section aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        <form method="post" action={`/console/tunnels/${name}/settings`} class="panel">
          <CsrfField token={csrf} />
          <SettingsFields idPrefix="settings" settings={detail.settings} />
          <button type="submit">Save settings</button>
        </form>
      </section>

      <DeleteSection
        heading="Delete the tunnel"
        action={`/console/tunnels/${name}/delete`}
        consequence="Closes every gateway, fails calls in flight and deletes its tokens, sessions and trace."
        confirmLabel="Type the tunnel's name to confirm"
        button="Delete tunnel"
        csrfToken={csrf}
      />
    </>,
  );
});

tunnelPageRoutes.get("/tunnels/:name/sessions", async (c) => {
  const name = c.req.param("name");
  const given = Object.fromEntries(Object.entries(c.req.query()).filter(([, value]) => value !== ""));
  const query = parseInput(SessionQuerySchema, { ...given, limit: SESSIONS_PER_PAGE }, "session query");
  const base = `/console/tunnels/${name}/sessions`;
  const page = await tunnelSessions(c.env, name, query);
  return renderPage(
    c,
    { title: `Sessions of ${name}`, section: "tunnels" },
    <>
      <p class="breadcrumb">
        <a href="/console/tunnels">Tunnels</a> / <a href={`/console/tunnels/${name}`}>{name}</a>
      </p>
      <h1>Sessions of {name}</h1>
      <Notice text={noticeText(c)} />
      <form method="get" action={base} class="panel" aria-label="Filter the sessions">
        <div class="form-row">
          <div class="field">
            <label for="sessions-server">Server</label>
            <input id="sessions-server" name="server" value={query.server ?? ""} />
          </div>
          <button type="submit">Filter</button>
        </div>
      </form>
      <SessionsTable
        tunnel={name}
        sessions={page.rows}
        csrfToken={c.get("csrfToken")}
        caption="MCP sessions, most recently used first"
      />
      <Pager
        label="Sessions"
        next={page.next}
        isFirst={query.before === undefined}
        href={(cursor) => {
          const params = new URLSearchParams();
          if (query.server !== undefined) params.set("server", query.server);
          if (cursor !== null) params.set("before", cursor);
          const search = params.toString();
          return search ? `${base}?${search}` : base;
        }}
      />
    </>,
  );
});
