import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import type { Page } from "../../src/audit/trace-query.ts";
import {
  adminJson,
  agentFetch,
  createTunnel,
  eventually,
  JSON_HEADERS,
  jsonRpc,
  POST_JSON,
  SSE_HEADERS,
  warmUpEdge,
} from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

interface TraceRow {
  id: number;
  rpcMethod: string | null;
  tool: string | null;
  status: number;
  bytesOut: number;
  args: string | null;
  result: string | null;
}
async function toolCall(
  tunnel: Awaited<ReturnType<typeof createTunnel>>,
  gateway: SimGateway,
  args: Record<string, unknown>,
  answer: (stream: number) => void,
) {
  const call = agentFetch(tunnel, "echo", {
    method: "POST",
    headers: POST_JSON,
    body: jsonRpc("tools/call", { name: "login", arguments: args }),
  });
  const { stream } = await gateway.nextRequest();
  answer(stream);
  return (await call).text();
}

function storedTraces(tunnel: string): Promise<number> {
  return runInDurableObject(
    env.TUNNEL_RELAY.getByName(tunnel),
    (_instance, state) => state.storage.sql.exec("SELECT count(*) AS n FROM traces").one().n as number,
  );
}

describe("payloads in the tunnel's audit trail", () => {
  test("off by default: the trace has no arguments and no result", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await toolCall(tunnel, gateway, { password: "hunter2" }, (stream) =>
      gateway.respond(stream, 200, JSON_HEADERS, '{"jsonrpc":"2.0","id":1,"result":{}}'),
    );
    const page = await adminJson<Page<TraceRow>>("GET", `/admin/tunnels/${tunnel.name}/traces`);
    expect(page.rows[0]).toMatchObject({ tool: "login", args: null, result: null });
    gateway.close();
  });

  test("opted in: arguments and the result's start are stored redacted, and survive an eviction", async () => {
    const tunnel = await createTunnel({ audit: { payloads: true } });
    const gateway = await SimGateway.connect(tunnel);
    const body =
      '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"welcome ann"}],"api_key":"k-999"}}';
    const answer = await toolCall(
      tunnel,
      gateway,
      { user: "ann", password: "hunter2", note: "use Bearer abcdefgh12345678 here" },
      (stream) => gateway.respond(stream, 200, JSON_HEADERS, body),
    );
    // The agent got the answer untouched: redaction is the trail's, never the call's.
    expect(answer).toBe(body);
    const check = (row: TraceRow | undefined) => {
      expect(JSON.parse(row?.args ?? "null")).toEqual({
        name: "login",
        arguments: { user: "ann", password: "[REDACTED]", note: "use Bearer [REDACTED] here" },
      });
      expect(row?.result).toContain("welcome ann");
      expect(row?.result).toContain('"api_key":"[REDACTED]"');
      expect(`${row?.args}${row?.result}`).not.toMatch(/hunter2|k-999|abcdefgh12345678/);
    };
    // Buffered (not yet written): already visible, already redacted.
    check((await adminJson<Page<TraceRow>>("GET", `/admin/tunnels/${tunnel.name}/traces`)).rows[0]);
    await eventually(async () => (await storedTraces(tunnel.name)) === 1, "the trace to be written");
    const stored = await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name), (_i, state) =>
      state.storage.sql.exec("SELECT args, result FROM traces").one(),
    );
    expect(`${stored.args}${stored.result}`).not.toMatch(/hunter2|k-999|abcdefgh12345678/);
    await evictDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name));
    check((await adminJson<Page<TraceRow>>("GET", `/admin/tunnels/${tunnel.name}/traces`)).rows[0]);
    gateway.close();
  });

  test("a long streamed result: only its start is kept (bounded), the byte count is the whole", async () => {
    const tunnel = await createTunnel({ audit: { payloads: true } });
    const gateway = await SimGateway.connect(tunnel);
    const event = `data: ${JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "x".repeat(8000) } })}\n\n`;
    await toolCall(tunnel, gateway, { q: 1 }, (stream) => {
      gateway.head(stream, 200, SSE_HEADERS);
      for (let i = 0; i < 5; i++) gateway.data(stream, event);
      gateway.end(stream);
    });
    const [row] = (await adminJson<Page<TraceRow>>("GET", `/admin/tunnels/${tunnel.name}/traces`)).rows;
    expect(row?.bytesOut).toBe(5 * new TextEncoder().encode(event).byteLength);
    expect(new TextEncoder().encode(row?.result ?? "").byteLength).toBeLessThanOrEqual(4096);
    expect(row?.result).toMatch(new RegExp(`…\\[truncated, ${row?.bytesOut} bytes\\]$`));
    gateway.close();
  });
});

describe("rows across eviction and older databases", () => {
  test("relayed calls' rows are written within the flush interval and survive an eviction", async () => {
    const tunnel = await createTunnel({ audit: { maxRows: 5000 } });
    const gateway = await SimGateway.connect(tunnel);
    for (let i = 0; i < 3; i++) await gateway.answerCall(tunnel, jsonRpc(`m${i}`));
    await eventually(async () => (await storedTraces(tunnel.name)) === 3, "the traces to be written");
    await evictDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name));
    const page = await adminJson<Page<TraceRow>>("GET", `/admin/tunnels/${tunnel.name}/traces`);
    expect(page.rows.map((row) => row.rpcMethod)).toEqual(["m2", "m1", "m0"]);
    const detail = await adminJson<{ settings: { audit: { maxRows: number } } }>(
      "GET",
      `/admin/tunnels/${tunnel.name}`,
    );
    expect(detail.settings.audit.maxRows).toBe(5000);
    gateway.close();
  });

  test("an older `traces` table (no payload columns, no indexes) is migrated on wake, idempotently, rows kept", async () => {
    const tunnel = await createTunnel();
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE traces");
      sql.exec(`CREATE TABLE traces (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, server TEXT NOT NULL,
        http_method TEXT NOT NULL, rpc_method TEXT, tool TEXT, session_id TEXT, gateway_id TEXT,
        token_id TEXT, status INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
        bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, error TEXT)`);
      for (const [id, method] of [
        [1, "old-1"],
        [2, "old-2"],
      ] as const) {
        sql.exec(
          "INSERT INTO traces VALUES (?, ?, 'echo', 'POST', ?, NULL, NULL, NULL, 'tok', 200, 3, 10, 20, NULL)",
          id,
          Date.now(),
          method,
        );
      }
    });
    for (let wake = 0; wake < 2; wake++) {
      await evictDurableObject(stub);
      const page = await adminJson<Page<TraceRow>>("GET", `/admin/tunnels/${tunnel.name}/traces`);
      expect(page.rows.map((row) => [row.rpcMethod, row.args, row.result])).toEqual([
        ["old-2", null, null],
        ["old-1", null, null],
      ]);
    }
    const schema = await runInDurableObject(stub, (_instance, state) => ({
      columns: state.storage.sql
        .exec("SELECT name FROM pragma_table_info('traces')")
        .toArray()
        .map((row) => row.name),
      indexes: state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'traces' ORDER BY name")
        .toArray()
        .map((row) => row.name),
    }));
    expect(schema.columns).toEqual(expect.arrayContaining(["args", "result", "token_id", "bytes_out"]));
    expect(schema.indexes).toEqual(
      expect.arrayContaining([
        "traces_by_at",
        "traces_by_server",
        "traces_by_tool",
        "traces_by_session",
        "traces_failed",
      ]),
    );
    // New calls go on from the old ids.
    const gateway = await SimGateway.connect(tunnel);
    await gateway.answerCall(tunnel, jsonRpc("new"));
    await eventually(async () => (await storedTraces(tunnel.name)) === 3, "the new trace to be written");
    const page = await adminJson<Page<TraceRow>>("GET", `/admin/tunnels/${tunnel.name}/traces`);
    expect(page.rows.map((row) => [row.id, row.rpcMethod])).toEqual([
      [3, "new"],
      [2, "old-2"],
      [1, "old-1"],
    ]);
    gateway.close();
  });
});
