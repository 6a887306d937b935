/**
 * A tunnel's gateway and agent tokens: the list with a revoke button each, and creating one
 * (POST …/tokens: the token is shown once, on the result page, and never again). Revoking a
 * gateway token drops the gateways that use it at once.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { TokenInfo } from "../../../durable-objects/tunnel-relay/token-store.ts";
import { TokenRoleSchema } from "../../../durable-objects/tunnel-relay/token-store.ts";
import { recordOperatorAction } from "../../../src/audit/operator-action.ts";
import { CsrfField } from "../../../src/console/auth/csrf-field.tsx";
import { Table } from "../../../src/console/components/table.tsx";
import { TokenStateCells } from "../../../src/console/components/token-cells.tsx";
import { SecretOnce, Time } from "../../../src/console/components/widgets.tsx";
import { formFields } from "../../../src/console/form-fields.ts";
import { unwrap } from "../../../src/errors/rpc-result.ts";
import type { ConsoleEnv } from "../../env.ts";
import { namedTunnelStub } from "../tunnels.ts";
import { formBody } from "./form-body.ts";
import { redirectWithNotice, renderPage } from "./render.tsx";

export const tunnelTokensRoutes = new Hono<ConsoleEnv>();

const IssueFormSchema = z.object({ role: TokenRoleSchema });

tunnelTokensRoutes.post("/tunnels/:name/tokens", async (c) => {
  const name = c.req.param("name");
  const { role } = await formBody(c, IssueFormSchema, "token request");
  const issued = unwrap(await namedTunnelStub(c.env, name).issueToken(role));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.token_created",
    tunnel: name,
    target: issued.id,
    detail: { role },
  });
  return renderPage(
    c,
    { title: `New ${role} token for ${name}`, section: "tunnels" },
    <>
      <p class="breadcrumb">
        <a href="/console/tunnels">Tunnels</a> / <a href={`/console/tunnels/${name}`}>{name}</a>
      </p>
      <h1>
        New {role} token for {name}
      </h1>
      <SecretOnce label={`${role === "gateway" ? "Gateway" : "Agent"} token ${issued.id}`} value={issued.token} />
      <p>
        <a href={`/console/tunnels/${name}`}>Back to tunnel {name}</a>
      </p>
    </>,
    201,
  );
});

tunnelTokensRoutes.post("/tunnels/:name/tokens/:id/revoke", async (c) => {
  const { name, id } = c.req.param();
  await formFields(c, "revoke request"); // bounded like every console form; it has no fields of its own
  const revoked = unwrap(await namedTunnelStub(c.env, name).revokeToken(id));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.token_revoked",
    tunnel: name,
    target: revoked.id,
    detail: { role: revoked.role, closedGateways: revoked.closedGateways },
  });
  return redirectWithNotice(c, `/console/tunnels/${name}`, "token-revoked");
});

export function TokensSection(props: { tunnel: string; tokens: TokenInfo[]; csrfToken: string }) {
  const rows = props.tokens.map((token) => (
    <tr>
      <td class="mono">{token.id}</td>
      <td>{token.role}</td>
      <td>
        <Time ms={token.createdAt} />
      </td>
      <td>{token.lastUsedAt === null ? <span class="muted">never</span> : <Time ms={token.lastUsedAt} />}</td>
      <TokenStateCells
        revokedAt={token.revokedAt}
        revokeAction={`/console/tunnels/${props.tunnel}/tokens/${token.id}/revoke`}
        revokeLabel={`Revoke token ${token.id}`}
        csrfToken={props.csrfToken}
      />
    </tr>
  ));
  return (
    <section aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Tokens</h2>
      <Table
        id="token-list"
        caption="Gateway and agent tokens (secrets are never shown after creation)"
        columns={[
          { label: "Token" },
          { label: "Role" },
          { label: "Created" },
          { label: "Last used" },
          { label: "State" },
          { label: "Action" },
        ]}
        rows={rows}
        empty="No tokens."
      />
      <form method="post" action={`/console/tunnels/${props.tunnel}/tokens`} class="panel">
        <CsrfField token={props.csrfToken} />
        <div class="form-row">
          <div class="field">
            <label for="token-role">Role</label>
            <select id="token-role" name="role">
              <option value="agent">Agent (calls the tunnel's servers)</option>
              <option value="gateway">Gateway (connects the private network)</option>
            </select>
          </div>
          <button type="submit">Create token</button>
        </div>
      </form>
    </section>
  );
}
