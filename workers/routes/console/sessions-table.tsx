/** A tunnel's MCP sessions as a table, each with a form to end it (the tunnel page, the sessions page). */
import type { SessionView } from "../../../durable-objects/tunnel-relay/admin-view.ts";
import { CsrfField } from "../../../src/console/auth/csrf-field.tsx";
import { Table } from "../../../src/console/components/table.tsx";
import { Time } from "../../../src/console/components/widgets.tsx";

export function SessionsTable(props: { tunnel: string; sessions: SessionView[]; csrfToken: string; caption: string }) {
  const rows = props.sessions.map((session) => (
    <tr>
      <td class="mono wrap">{session.id}</td>
      <td>{session.server}</td>
      <td>
        {session.clientName ?? <span class="muted">unknown</span>}
        {session.clientVersion ? ` ${session.clientVersion}` : ""}
      </td>
      <td class="mono">{session.protocolVersion ?? ""}</td>
      <td class="mono">{session.tokenId}</td>
      <td class="mono">
        {session.gatewayId}
        {session.gatewayConnected ? "" : <span class="status-warn"> (gone)</span>}
      </td>
      <td>
        <Time ms={session.lastUsedAt} />
      </td>
      <td>
        <a
          href={`/console/tunnels/${props.tunnel}/trace?server=${encodeURIComponent(session.server)}&session=${encodeURIComponent(session.id)}`}
          aria-label={`Calls of session ${session.id}`}
        >
          Calls
        </a>
      </td>
      <td>
        <form method="post" action={`/console/tunnels/${props.tunnel}/sessions/end`} class="inline">
          <CsrfField token={props.csrfToken} />
          <input type="hidden" name="server" value={session.server} />
          <input type="hidden" name="id" value={session.id} />
          <button type="submit" class="secondary" aria-label={`End session ${session.id}`}>
            End
          </button>
        </form>
      </td>
    </tr>
  ));
  return (
    <Table
      id="sessions"
      caption={props.caption}
      columns={[
        { label: "Session" },
        { label: "Server" },
        { label: "Client" },
        { label: "Protocol" },
        { label: "Token" },
        { label: "Gateway" },
        { label: "Last use" },
        { label: "Trace" },
        { label: "Action" },
      ]}
      rows={rows}
      empty="No MCP sessions."
    />
  );
}
