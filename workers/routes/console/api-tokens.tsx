/**
 * API tokens for orchestrators (GET /console/tokens): the list, creating one with a label and a
 * backend scope (the secret is shown once, on the result page), revoking one. The same Registry
 * RPCs as /admin/tokens.
 */
import { Hono } from "hono";
import { z } from "zod";
import { registry } from "../../../durable-objects/registry.ts";
import { BackendScopeSchema, DEFAULT_BACKEND_SCOPE } from "../../../durable-objects/sandbox/backend-scope.ts";
import { recordOperatorAction } from "../../../src/audit/operator-action.ts";
import { CsrfField } from "../../../src/console/auth/csrf-field.tsx";
import { Table } from "../../../src/console/components/table.tsx";
import { TokenStateCells } from "../../../src/console/components/token-cells.tsx";
import { Notice, SecretOnce, Time } from "../../../src/console/components/widgets.tsx";
import { formFields } from "../../../src/console/form-fields.ts";
import { TetherError } from "../../../src/errors/tether-error.ts";
import { parseInput } from "../../../src/validation/parse-input.ts";
import type { ConsoleEnv } from "../../env.ts";
import { formBody } from "./form-body.ts";
import { noticeText, redirectWithNotice, renderPage } from "./render.tsx";

export const apiTokensRoutes = new Hono<ConsoleEnv>();

const CreateFormSchema = z.object({
  label: z.string().trim().min(1).max(200),
  backends: z.string().max(4000).optional(),
});

apiTokensRoutes.get("/tokens", async (c) => {
  const tokens = (await registry(c.env).listApiTokens()).reverse();
  const csrf = c.get("csrfToken");
  const rows = tokens.map((token) => (
    <tr>
      <td class="mono">{token.id}</td>
      <td class="wrap">{token.label}</td>
      <td class="mono wrap">{token.backends.join(" ")}</td>
      <td>
        <Time ms={token.createdAt} />
      </td>
      <TokenStateCells
        revokedAt={token.revokedAt}
        revokeAction={`/console/tokens/${token.id}/revoke`}
        revokeLabel={`Revoke API token ${token.id}`}
        csrfToken={csrf}
      />
    </tr>
  ));
  return renderPage(
    c,
    { title: "API tokens", section: "tokens" },
    <>
      <h1>API tokens</h1>
      <Notice text={noticeText(c)} />
      <p>Orchestrators create sandboxes with these and use the sandboxes they created.</p>
      <Table
        id="api-tokens"
        caption="API tokens, newest first (secrets are never shown after creation)"
        columns={[
          { label: "Token" },
          { label: "Label" },
          { label: "Backends" },
          { label: "Created" },
          { label: "State" },
          { label: "Action" },
        ]}
        rows={rows}
        empty="No API tokens yet."
      />
      <section aria-labelledby="create-token">
        <h2 id="create-token">Create an API token</h2>
        <form method="post" action="/console/tokens" class="panel">
          <CsrfField token={csrf} />
          <div class="form-row">
            <div class="field">
              <label for="token-label">Label</label>
              <input id="token-label" name="label" required maxlength={200} />
            </div>
            <div class="field">
              <label for="token-backends">Backends</label>
              <input
                id="token-backends"
                name="backends"
                value={DEFAULT_BACKEND_SCOPE.join(" ")}
                aria-describedby="token-backends-hint"
              />
              <span id="token-backends-hint" class="hint">
                Where its sandboxes may run, separated by spaces: edge, gateway:*, gateway:TUNNEL or
                gateway:TUNNEL/EXECUTOR.
              </span>
            </div>
            <button type="submit">Create API token</button>
          </div>
        </form>
      </section>
    </>,
  );
});

apiTokensRoutes.post("/tokens", async (c) => {
  const form = await formBody(c, CreateFormSchema, "API token request");
  const scope = (form.backends ?? "").split(/[\s,]+/).filter((entry) => entry !== "");
  const backends = parseInput(BackendScopeSchema, scope.length > 0 ? scope : [...DEFAULT_BACKEND_SCOPE], "backends");
  const created = await registry(c.env).createApiToken(form.label, backends);
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "api_token.created",
    target: created.id,
    detail: { label: created.label, backends: created.backends },
  });
  return renderPage(
    c,
    { title: "API token created", section: "tokens" },
    <>
      <p class="breadcrumb">
        <a href="/console/tokens">API tokens</a> / {created.id}
      </p>
      <h1>API token {created.id} created</h1>
      <SecretOnce label={`API token "${created.label}"`} value={created.token} />
      <p>
        Backends: <span class="mono">{created.backends.join(" ")}</span>
      </p>
      <p>
        <a href="/console/tokens">Back to API tokens</a>
      </p>
    </>,
    201,
  );
});

apiTokensRoutes.post("/tokens/:id/revoke", async (c) => {
  const id = c.req.param("id");
  await formFields(c, "revoke request"); // bounded like every console form; it has no fields of its own
  if (!(await registry(c.env).revokeApiToken(id))) throw new TetherError("not_found", "no live API token with that id");
  await recordOperatorAction(c.env, c.get("operator"), { action: "api_token.revoked", target: id });
  return redirectWithNotice(c, "/console/tokens", "api-token-revoked");
});
