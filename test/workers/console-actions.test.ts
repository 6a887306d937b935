import { describe, expect, test } from "vitest";
import {
  consoleFetch,
  operatorActions,
  page,
  post,
  seedSessions,
  seedTraces,
  session,
  tableRows,
  textOf,
} from "./console-page-fixtures.ts";
import { bash, createSandbox, uniqueId, warmUp } from "./sandbox-helpers.ts";
import {
  agentFetch,
  callTrace,
  createTunnel,
  initializeBody,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  tunnelDetail,
  uniqueName,
  warmUpEdge,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

describe("console: every action is recorded under the operator", () => {
  test("tunnel created, token created and revoked, settings changed, session ended, tunnel deleted", async () => {
    const name = uniqueName("audit");
    expect((await post("/console/tunnels", { name })).status).toBe(201);
    expect((await post(`/console/tunnels/${name}/tokens`, { role: "agent" })).status).toBe(201);
    const tokens = (await tunnelDetail<{ tokens: Array<{ id: string }> }>(name)).tokens;
    expect((await post(`/console/tunnels/${name}/tokens/${tokens[2]!.id}/revoke`)).status).toBe(303);
    expect((await post(`/console/tunnels/${name}/settings`, { sseKeepAliveMs: "5000" })).status).toBe(303);
    await seedSessions(name, [session("echo", "to-end")]);
    expect((await post(`/console/tunnels/${name}/sessions/end`, { server: "echo", id: "to-end" })).status).toBe(303);
    expect((await post(`/console/tunnels/${name}/delete`, { confirm: name })).status).toBe(303);
    const actions = (await operatorActions({ tunnel: name })).reverse();
    expect(actions.map((a) => [a.operator, a.action, a.target])).toEqual([
      ["admin-token", "tunnel.created", null],
      ["admin-token", "tunnel.token_created", tokens[2]!.id],
      ["admin-token", "tunnel.token_revoked", tokens[2]!.id],
      ["admin-token", "tunnel.settings_changed", null],
      ["admin-token", "tunnel.session_ended", "echo/to-end"],
      ["admin-token", "tunnel.deleted", null],
    ]);
    expect(JSON.stringify(actions)).not.toMatch(/tth\./);
  });

  test("a refused action records nothing", async () => {
    const tunnel = await createTunnel();
    const before = (await operatorActions({ tunnel: tunnel.name })).length;
    expect((await post(`/console/tunnels/${tunnel.name}/delete`, { confirm: "wrong" })).status).toBe(400);
    expect((await post(`/console/tunnels/${tunnel.name}/settings`, { sseKeepAliveMs: "1" })).status).toBe(400);
    expect((await post(`/console/tunnels/${tunnel.name}/tokens/gw_none/revoke`)).status).toBe(404);
    expect(await operatorActions({ tunnel: tunnel.name })).toHaveLength(before);
  });

  test("sandbox deleted and API tokens created and revoked", async () => {
    await warmUp();
    const sandbox = await createSandbox({ id: uniqueId("audit") });
    expect((await post(`/console/sandboxes/${sandbox.id}/delete`, { confirm: sandbox.id })).status).toBe(303);
    expect((await operatorActions({ sandbox: sandbox.id })).map((a) => a.action)).toEqual(["sandbox.deleted"]);
    const created = await (await post("/console/tokens", { label: "audited" })).text();
    const id = /API token ([0-9a-f]{16}) created/.exec(created)?.[1];
    expect((await post(`/console/tokens/${id}/revoke`)).status).toBe(303);
    const recent = (await operatorActions()).filter((a) => a.target === id).map((a) => a.action);
    expect(recent).toEqual(["api_token.revoked", "api_token.created"]);
  });
});

describe("console: ending sessions", () => {
  test("an ended session answers 404 to its agent, and its upstream gets the DELETE", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const init = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body: initializeBody() });
    const opened = await gateway.nextRequest();
    gateway.respond(opened.stream, 200, [...JSON_HEADERS, ["mcp-session-id", "live-1"]], "{}");
    await (await init).arrayBuffer();
    const html = await page(`/console/tunnels/${tunnel.name}`);
    expect(textOf(tableRows(html, "sessions")[0] ?? "")).toMatch(/live-1 echo test-client 1\.2\.3 2025-06-18/);
    const ending = post(`/console/tunnels/${tunnel.name}/sessions/end`, { server: "echo", id: "live-1" });
    const deleted = await gateway.nextRequest();
    expect(deleted.open.method).toBe("DELETE");
    gateway.respond(deleted.stream, 200, [], "");
    const res = await ending;
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/console/tunnels/${tunnel.name}?notice=session-ended`);
    const after = await agentFetch(tunnel, "echo", {
      method: "POST",
      headers: { ...POST_JSON, "mcp-session-id": "live-1", "mcp-protocol-version": "2025-06-18" },
      body: jsonRpc("tools/list"),
    });
    expect(after.status).toBe(404);
    expect(tableRows(await page(`/console/tunnels/${tunnel.name}`), "sessions")[0]).toContain("No MCP sessions.");
    gateway.close();
  });

  test("ending a session that does not exist is a 404 page", async () => {
    const tunnel = await createTunnel();
    const res = await post(`/console/tunnels/${tunnel.name}/sessions/end`, { server: "echo", id: "never" });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("<h1>Not found</h1>");
  });
});

describe("console: what the audit trail keeps, shown", () => {
  test("a tunnel that keeps payloads shows each call's redacted arguments and result; the setting is a checkbox", async () => {
    const tunnel = await createTunnel();
    expect((await post(`/console/tunnels/${tunnel.name}/settings`, { payloads: "on", maxRows: "500" })).status).toBe(
      303,
    );
    const settingsPage = await page(`/console/tunnels/${tunnel.name}`);
    expect(settingsPage).toMatch(/<input id="settings-payloads" name="payloads" type="checkbox" checked=""\/>/);
    expect(settingsPage).toContain('name="maxRows" type="number" min="10" value="500"');
    const gateway = await SimGateway.connect(tunnel);
    await gateway.answerCall(
      tunnel,
      jsonRpc("tools/call", { name: "lookup", arguments: { q: "<b>x</b>", api_key: "hunter2-secret-value" } }),
      JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "found" } }),
    );
    const html = await page(`/console/tunnels/${tunnel.name}/trace`);
    const row = tableRows(html, "trace")[0] ?? "";
    expect(row).toContain("<summary>Arguments and result</summary>");
    expect(row).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(row).toContain("found");
    expect(html).not.toContain("hunter2-secret-value");
    // Unticked, the checkbox turns it off again.
    expect((await post(`/console/tunnels/${tunnel.name}/settings`, {})).status).toBe(303);
    expect(
      (await tunnelDetail<{ settings: { audit: { payloads: boolean } } }>(tunnel.name)).settings.audit.payloads,
    ).toBe(false);
    gateway.close();
  });

  test("a tunnel that keeps no payloads shows none", async () => {
    const tunnel = await createTunnel();
    await seedTraces(tunnel.name, [callTrace("tools/call")]);
    const row = tableRows(await page(`/console/tunnels/${tunnel.name}/trace`), "trace")[0] ?? "";
    expect(row).not.toContain("<details>");
  });

  test("the sandbox page shows each call's input and result and pages through older calls", async () => {
    await warmUp();
    const sandbox = await createSandbox({ id: uniqueId("trail") });
    for (let i = 0; i < 55; i++) await bash(sandbox, `echo call-${i}`);
    const first = await page(`/console/sandboxes/${sandbox.id}`);
    const rows = tableRows(first, "sandbox-trace");
    expect(rows).toHaveLength(50);
    expect(rows[0]).toContain("call-54");
    expect(rows[0]).toContain("<summary>Input and result</summary>");
    const older = /<a href="([^"]+)" rel="next">/.exec(first)?.[1]?.replaceAll("&amp;", "&");
    expect(older).toMatch(new RegExp(`^/console/sandboxes/${sandbox.id}\\?before=\\d+#sandbox-trace-heading$`));
    const second = await page(older!.replace(/#.*/, ""));
    expect(tableRows(second, "sandbox-trace").map((row) => /call-(\d+)/.exec(row)?.[1])).toEqual([
      "4",
      "3",
      "2",
      "1",
      "0",
    ]);
    expect((await consoleFetch(`/console/sandboxes/${sandbox.id}?before=x`)).status).toBe(400);
  });
});
