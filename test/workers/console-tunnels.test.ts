import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { registry } from "../../durable-objects/registry.ts";
import { TUNNELS_PER_PAGE } from "../../workers/routes/console/tunnels-list.tsx";
import { consoleFetch, expectNoSecrets, page, post, tableRows, textOf } from "./console-page-fixtures.ts";
import { createTunnel, tunnelDetail, uniqueName, warmUpEdge, within } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

/** The secret a result page shows once. */
function secretsOn(html: string): string[] {
  return [...html.matchAll(/<code data-testid="secret">([^<]+)<\/code>/g)].map((match) => match[1] as string);
}

describe("console: tunnels list", () => {
  test("shows each tunnel with its gateways, servers and sessions, linking to its page", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, {
      servers: [
        { name: "echo", kind: "http", allowPaths: [] },
        { name: "files", kind: "stdio", allowPaths: [] },
      ],
    });
    const html = await page("/console/tunnels");
    const row = tableRows(html, "tunnels").find((r) => r.includes(`href="/console/tunnels/${tunnel.name}"`));
    expect(textOf(row ?? "")).toMatch(new RegExp(`${tunnel.name} 1 echo, files 0 0`));
    expect(html).toContain('aria-current="page">Tunnels</a>');
    expectNoSecrets(html, [tunnel.gatewayToken, tunnel.agentToken]);
    gateway.close();
  });

  test(`pages by name, ${TUNNELS_PER_PAGE} at a time, with an Older link that carries the last name`, async () => {
    await Promise.all(Array.from({ length: TUNNELS_PER_PAGE + 1 }, () => createTunnel({}, uniqueName("p"))));
    const names = (await registry(env).list("tunnel")).map((entry) => entry.name);
    const first = await page("/console/tunnels");
    expect(tableRows(first, "tunnels")).toHaveLength(TUNNELS_PER_PAGE);
    const older = /<a href="\/console\/tunnels\?after=([^"]+)" rel="next">/.exec(first);
    expect(older?.[1]).toBe(names[TUNNELS_PER_PAGE - 1]);
    const second = await page(`/console/tunnels?after=${older?.[1]}`);
    const shown = tableRows(second, "tunnels").map((row) => /href="\/console\/tunnels\/([^"]+)"/.exec(row)?.[1]);
    expect(shown[0]).toBe(names[TUNNELS_PER_PAGE]);
    expect(second).toContain('href="/console/tunnels">Newest</a>');
  });

  test("creating a tunnel shows its two tokens once; they work; the tunnel page never shows them again", async () => {
    const name = uniqueName("c");
    const res = await post("/console/tunnels", { name, allowedOrigins: "https://app.example.com", sseKeepAliveMs: "" });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    const [gatewayToken, agentToken] = secretsOn(html);
    expect(gatewayToken).toMatch(new RegExp(`^tth\\.gw\\.${name}\\.`));
    expect(agentToken).toMatch(new RegExp(`^tth\\.ag\\.${name}\\.`));
    const gateway = await SimGateway.connect(
      { name, gatewayToken: gatewayToken!, agentToken: agentToken!, tokens: [] },
      {},
      gatewayToken,
    );
    const detail = await tunnelDetail<{ settings: { allowedOrigins: string[]; sseKeepAliveMs: number } }>(name);
    expect(detail.settings).toMatchObject({ allowedOrigins: ["https://app.example.com"], sseKeepAliveMs: 15_000 });
    expectNoSecrets(await page(`/console/tunnels/${name}`), [gatewayToken!, agentToken!]);
    expectNoSecrets(await page("/console/tunnels"), [gatewayToken!, agentToken!]);
    gateway.close();
  });

  test("a bad name or bad settings answer 400 as a page and create nothing", async () => {
    const cases: Array<Record<string, string> & { name: string }> = [
      { name: "Bad_Name" },
      { name: uniqueName("c"), allowedOrigins: "not a url" },
      { name: uniqueName("c"), sseKeepAliveMs: "1" },
    ];
    for (const fields of cases) {
      const res = await post("/console/tunnels", fields);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await registry(env).has("tunnel", fields.name)).toBe(false);
    }
  });

  test("a name that exists answers 409 and keeps the tunnel's tokens", async () => {
    const tunnel = await createTunnel();
    const res = await post("/console/tunnels", { name: tunnel.name });
    expect(res.status).toBe(409);
    expect(textOf(await res.text())).toContain("already exists");
    const gateway = await SimGateway.connect(tunnel);
    gateway.close();
  });
});

describe("console: a tunnel's page", () => {
  test("shows gateways (version, connected since, in flight, draining), servers (kind, allowed paths) and tokens (with their last use)", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel, {
      version: "9.8.7",
      servers: [{ name: "docs", kind: "stdio", allowPaths: ["/.well-known/oauth-protected-resource"] }],
    });
    const html = await page(`/console/tunnels/${tunnel.name}`);
    expect(textOf(tableRows(html, "gateway-list")[0] ?? "")).toMatch(/9\.8\.7 \d{4}-\d\d-\d\d [\d:]+Z 0 no gw_/);
    expect(textOf(tableRows(html, "server-list")[0] ?? "")).toContain(
      "docs stdio /.well-known/oauth-protected-resource",
    );
    const tokens = tableRows(html, "token-list").map(textOf);
    expect(tokens).toHaveLength(2);
    // The connected gateway used its token; the agent token was never used.
    expect(tokens[0]).toMatch(/gw_\w+ gateway \d{4}-\d\d-\d\d [\d:]+Z \d{4}-\d\d-\d\d [\d:]+Z live/);
    expect(tokens[1]).toMatch(/ag_\w+ agent \d{4}-\d\d-\d\d [\d:]+Z never live/);
    expect(html).toContain(`aria-label="Revoke token ${tunnel.tokens[0]!.id}"`);
    expectNoSecrets(html, [tunnel.gatewayToken, tunnel.agentToken]);
    gateway.close();
  });

  test("an unknown or impossible tunnel is a 404 page", async () => {
    for (const name of ["no-such-tunnel-here", "Not_A_Name"]) {
      const res = await consoleFetch(`/console/tunnels/${name}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("<h1>Not found</h1>");
    }
  });

  test("creating a token shows it once; revoking a gateway token drops its gateway", async () => {
    const tunnel = await createTunnel();
    const res = await post(`/console/tunnels/${tunnel.name}/tokens`, { role: "gateway" });
    expect(res.status).toBe(201);
    const [token] = secretsOn(await res.text());
    expect(token).toMatch(/^tth\.gw\./);
    const gateway = await SimGateway.connect(tunnel, {}, token);
    const id = (await tunnelDetail<{ tokens: Array<{ id: string }> }>(tunnel.name)).tokens[2]!.id;
    const revoked = await post(`/console/tunnels/${tunnel.name}/tokens/${id}/revoke`);
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get("location")).toBe(`/console/tunnels/${tunnel.name}?notice=token-revoked`);
    expect((await within(gateway.closed, "the gateway to be dropped")).code).toBe(4401);
    const html = await page(`/console/tunnels/${tunnel.name}?notice=token-revoked`);
    expect(html).toContain('role="status">Token revoked.</p>');
    expect(textOf(tableRows(html, "token-list")[2] ?? "")).toContain("revoked");
    expect(html).not.toContain(`aria-label="Revoke token ${id}"`);
    expectNoSecrets(html, [token!]);
  });

  test("a bad role or an unknown token id is refused as a page", async () => {
    const tunnel = await createTunnel();
    expect((await post(`/console/tunnels/${tunnel.name}/tokens`, { role: "root" })).status).toBe(400);
    expect((await post(`/console/tunnels/${tunnel.name}/tokens/gw_nope/revoke`)).status).toBe(404);
    expect((await tunnelDetail<{ tokens: unknown[] }>(tunnel.name)).tokens).toHaveLength(2);
  });

  test("settings are edited through the form; a bad value changes nothing", async () => {
    const tunnel = await createTunnel();
    const saved = await post(`/console/tunnels/${tunnel.name}/settings`, {
      allowedOrigins: "https://a.example.com\r\n\r\nhttps://b.example.com:8443/path",
      sseKeepAliveMs: "2500",
    });
    expect(saved.status).toBe(303);
    const settings = { allowedOrigins: ["https://a.example.com", "https://b.example.com:8443"], sseKeepAliveMs: 2500 };
    expect((await tunnelDetail<{ settings: unknown }>(tunnel.name)).settings).toMatchObject(settings);
    const html = await page(`/console/tunnels/${tunnel.name}`);
    expect(html).toContain("https://a.example.com\nhttps://b.example.com:8443</textarea>");
    expect(html).toContain('value="2500"');
    expect((await post(`/console/tunnels/${tunnel.name}/settings`, { sseKeepAliveMs: "999999" })).status).toBe(400);
    expect((await tunnelDetail<{ settings: unknown }>(tunnel.name)).settings).toMatchObject(settings);
  });

  test("deleting needs the name typed again; then the tunnel and its gateways are gone", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const wrong = await post(`/console/tunnels/${tunnel.name}/delete`, { confirm: "something-else" });
    expect(wrong.status).toBe(400);
    expect(gateway.isClosed).toBe(false);
    const res = await post(`/console/tunnels/${tunnel.name}/delete`, { confirm: tunnel.name });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/tunnels?notice=tunnel-deleted");
    expect((await within(gateway.closed, "the gateway to be closed")).code).toBe(4401);
    expect(await registry(env).has("tunnel", tunnel.name)).toBe(false);
    expect((await consoleFetch(`/console/tunnels/${tunnel.name}`)).status).toBe(404);
  });
});
