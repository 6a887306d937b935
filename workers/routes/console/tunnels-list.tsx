/**
 * Tunnels: the list with each tunnel's status (GET /console/tunnels, paged by name) and creating
 * one (POST /console/tunnels: its gateway and agent tokens are shown once, on the result page).
 */
import { Hono } from "hono";
import { z } from "zod";
import { registry } from "../../../durable-objects/registry.ts";
import { TunnelSettingsSchema } from "../../../durable-objects/tunnel-relay/settings.ts";
import { recordOperatorAction } from "../../../src/audit/operator-action.ts";
import { CsrfField } from "../../../src/console/auth/csrf-field.tsx";
import { Table } from "../../../src/console/components/table.tsx";
import { Notice, Pager, SecretOnce } from "../../../src/console/components/widgets.tsx";
import { METRIC_COLUMNS, MetricCells } from "../../../src/console/components/window-stats.tsx";
import { unwrap } from "../../../src/errors/rpc-result.ts";
import type { ConsoleEnv } from "../../env.ts";
import { TUNNEL_NAME_PATTERN, tunnelStub } from "../tunnels.ts";
import { formBody } from "./form-body.ts";
import { type ConsoleContext, noticeText, renderPage } from "./render.tsx";
import { listTunnels } from "./tunnel-data.ts";
import { SettingsFields, SettingsFormSchema, settingsFromForm } from "./tunnel-settings-form.tsx";

export const tunnelsListRoutes = new Hono<ConsoleEnv>();

export const TUNNELS_PER_PAGE = 25;

const ListQuerySchema = z.object({ after: z.string().regex(TUNNEL_NAME_PATTERN).optional() });

const CreateTunnelFormSchema = SettingsFormSchema.extend({
  name: z.string().regex(TUNNEL_NAME_PATTERN, "tunnel names are [a-z0-9-], at most 63, not starting with -"),
});

// The console's home is the tunnels list: what operators look at first.
tunnelsListRoutes.get("/", (c) => listPage(c));
tunnelsListRoutes.get("/tunnels", (c) => listPage(c));

async function listPage(c: ConsoleContext) {
  const query = ListQuerySchema.safeParse(c.req.query());
  const after = query.success ? (query.data.after ?? null) : null;
  const page = await listTunnels(c.env, after, TUNNELS_PER_PAGE);
  const rows = page.rows.map(({ summary, metrics }) => (
    <tr>
      <th scope="row">
        <a href={`/console/tunnels/${summary.name}`}>{summary.name}</a>
      </th>
      <td class="num">{summary.gateways}</td>
      <td class="wrap">{summary.servers.length > 0 ? summary.servers.join(", ") : <span class="muted">none</span>}</td>
      <td class="num">{summary.sessions}</td>
      <td class="num">{summary.inFlight}</td>
      <MetricCells windows={metrics?.windows ?? null} />
    </tr>
  ));
  return renderPage(
    c,
    { title: "Tunnels", section: "tunnels" },
    <>
      <h1>Tunnels</h1>
      <Notice text={noticeText(c)} />
      <Table
        id="tunnels"
        caption="Tunnels and their status"
        columns={[
          { label: "Tunnel" },
          { label: "Gateways", num: true },
          { label: "Servers" },
          { label: "Sessions", num: true },
          { label: "In flight", num: true },
          ...METRIC_COLUMNS,
        ]}
        rows={rows}
        empty="No tunnels yet: create one below."
      />
      <Pager
        label="Tunnels"
        next={page.next}
        isFirst={after === null}
        href={(cursor) =>
          cursor === null ? "/console/tunnels" : `/console/tunnels?after=${encodeURIComponent(cursor)}`
        }
      />
      <section aria-labelledby="create-tunnel">
        <h2 id="create-tunnel">Create a tunnel</h2>
        <form method="post" action="/console/tunnels" class="panel">
          <CsrfField token={c.get("csrfToken")} />
          <div class="form-row">
            <div class="field">
              <label for="tunnel-name">Name</label>
              <input
                id="tunnel-name"
                name="name"
                required
                pattern="[a-z0-9][a-z0-9\-]{0,62}"
                aria-describedby="tunnel-name-hint"
              />
              <span id="tunnel-name-hint" class="hint">
                Lower-case letters, digits and dashes.
              </span>
            </div>
          </div>
          <SettingsFields idPrefix="new" />
          <button type="submit">Create tunnel</button>
        </form>
      </section>
    </>,
  );
}

tunnelsListRoutes.post("/tunnels", async (c) => {
  const form = await formBody(c, CreateTunnelFormSchema, "tunnel");
  const settings = TunnelSettingsSchema.parse(settingsFromForm(form));
  const created = unwrap(await tunnelStub(c.env, form.name).create(form.name, settings));
  await registry(c.env).add("tunnel", form.name);
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.created",
    tunnel: form.name,
    detail: { settings: created.settings, tokens: [created.gatewayToken.id, created.agentToken.id] },
  });
  const origin = new URL(c.req.url).origin;
  return renderPage(
    c,
    { title: `Tunnel ${form.name} created`, section: "tunnels" },
    <>
      <h1>Tunnel {form.name} created</h1>
      <SecretOnce label={`Gateway token (${created.gatewayToken.id})`} value={created.gatewayToken.token} />
      <SecretOnce label={`Agent token (${created.agentToken.id})`} value={created.agentToken.token} />
      <dl>
        <dt>Gateways connect to</dt>
        <dd>
          <code>{`${origin.replace(/^http/, "ws")}/t/${form.name}/connect`}</code>
        </dd>
        <dt>Agents call</dt>
        <dd>
          <code>{`${origin}/t/${form.name}/{server}/mcp`}</code>
        </dd>
      </dl>
      <p>
        <a href={`/console/tunnels/${form.name}`}>Go to tunnel {form.name}</a>
      </p>
    </>,
    201,
  );
});
