import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { SessionStore } from "../../durable-objects/tunnel-relay/session-store.ts";
import { TokenStore } from "../../durable-objects/tunnel-relay/token-store.ts";
import { FLUSH_ROWS, TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import { hashToken } from "../../src/auth/tokens.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { admin, callTrace, createTunnel, eventually, jsonRpc, traces, warmUpEdge } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

function storedTraces(sql: SqlStorage): number {
  return sql.exec("SELECT count(*) AS n FROM traces").one().n as number;
}

describe("bookkeeping written behind", () => {
  test("traces wait in memory, show in the operators' view at once, and reach SQLite together (at once when the buffer is full)", async () => {
    const tunnel = await createTunnel();
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    const seen = await runInDurableObject(stub, (_instance, state) => {
      const writes = new WriteBehind(state.storage);
      const traces = new TraceStore(state.storage.sql, writes);
      traces.add(callTrace("first"));
      const buffered = { stored: storedTraces(state.storage.sql), recent: traces.recent(5).map((t) => t.rpcMethod) };
      for (let i = 1; i < FLUSH_ROWS; i++) traces.add(callTrace(`m${i}`));
      const full = storedTraces(state.storage.sql);
      traces.add(callTrace("last"));
      const beforeFlush = storedTraces(state.storage.sql);
      writes.flush();
      return { buffered, full, beforeFlush, afterFlush: storedTraces(state.storage.sql), newest: traces.recent(1)[0] };
    });
    expect(seen.buffered).toEqual({ stored: 0, recent: ["first"] });
    expect(seen.full).toBe(FLUSH_ROWS);
    expect(seen.beforeFlush).toBe(FLUSH_ROWS);
    expect(seen.afterFlush).toBe(FLUSH_ROWS + 1);
    expect(seen.newest).toMatchObject({ id: FLUSH_ROWS + 1, rpcMethod: "last" });
  });

  test("a relayed call's trace is visible at once and reaches SQLite within the flush interval", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await gateway.answerCall(tunnel, jsonRpc("tools/list"));
    expect((await traces(tunnel.name))[0]).toMatchObject({ rpcMethod: "tools/list", status: 200 });
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    await eventually(
      () => runInDurableObject(stub, (_instance, state) => storedTraces(state.storage.sql) === 1),
      "the trace to be written",
    );
    gateway.close();
  });

  test("deleting a tunnel drops its buffered traces: the name's next tunnel starts with none", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    await gateway.answerCall(tunnel, jsonRpc("before-delete"));
    await admin("DELETE", `/admin/tunnels/${tunnel.name}`);
    const again = await createTunnel({}, tunnel.name);
    const fresh = await SimGateway.connect(again);
    await fresh.answerCall(again, jsonRpc("after-delete"));
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    // Once the new call's trace is written, anything still buffered from before would be too.
    await eventually(
      () => runInDurableObject(stub, (_instance, state) => storedTraces(state.storage.sql) > 0),
      "the new trace to be written",
    );
    const stored = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT rpc_method FROM traces").toArray(),
    );
    expect(stored).toEqual([{ rpc_method: "after-delete" }]);
    expect((await traces(tunnel.name)).map((t) => t.rpcMethod)).toEqual(["after-delete"]);
    fresh.close();
  });

  test("a session's last use is refreshed in memory and written behind; its creation is written at once", async () => {
    const tunnel = await createTunnel();
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    const seen = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const stored = () => sql.exec("SELECT last_used_at AS at FROM sessions WHERE id = 's1'").toArray()[0]?.at;
      const writes = new WriteBehind(state.storage);
      const sessions = new SessionStore(sql, writes);
      const session = {
        server: "echo",
        id: "s1",
        tokenId: "t",
        gatewayId: "g",
        clientName: null,
        clientVersion: null,
        protocolVersion: null,
        createdAt: 1_000,
        lastUsedAt: 1_000,
      };
      sessions.record(session);
      const created = stored();
      sessions.touch(session, 1_000 + 120_000);
      const touched = { stored: stored(), listed: sessions.list(5)[0]?.lastUsedAt, got: sessions.get("echo", "s1") };
      writes.flush();
      return { created, touched, flushed: stored() };
    });
    expect(seen.created).toBe(1_000);
    expect(seen.touched).toMatchObject({ stored: 1_000, listed: 121_000, got: { lastUsedAt: 121_000 } });
    expect(seen.flushed).toBe(121_000);
  });

  test("a token's hash is read from SQLite on its first use only; revoking it fails its next use at once", async () => {
    const tunnel = await createTunnel();
    const agent = tunnel.tokens.find((token) => token.role === "agent")?.id;
    const hash = await hashToken(tunnel.agentToken);
    const stub = env.TUNNEL_RELAY.getByName(tunnel.name);
    const seen = await runInDurableObject(stub, (_instance, state) => {
      let reads = 0;
      const counting = {
        exec(query: string, ...params: Array<string | number | null | ArrayBuffer>) {
          if (/^\s*SELECT/i.test(query)) reads++;
          return state.storage.sql.exec(query, ...params);
        },
      } as unknown as SqlStorage;
      const tokens = new TokenStore(counting, new WriteBehind(state.storage));
      const first = tokens.verify(hash, "agent")?.id;
      const readsAfterFirst = reads;
      const second = tokens.verify(hash, "agent")?.id;
      const wrongRole = tokens.verify(hash, "gateway");
      const readsAfterMore = reads;
      tokens.revoke(agent as string);
      return { first, second, wrongRole, readsAfterFirst, readsAfterMore, revoked: tokens.verify(hash, "agent") };
    });
    expect(seen).toEqual({
      first: agent,
      second: agent,
      wrongRole: null,
      readsAfterFirst: 1,
      readsAfterMore: 1,
      revoked: null,
    });
  });

  test("a token's last use: noted to the minute, listed before it is written, written behind, kept by a new store", async () => {
    const tunnel = await createTunnel();
    const agent = tunnel.tokens.find((token) => token.role === "agent")?.id as string;
    const hash = await hashToken(tunnel.agentToken);
    const seen = await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel.name), (_instance, state) => {
      const writes = new WriteBehind(state.storage);
      const tokens = new TokenStore(state.storage.sql, writes);
      const stored = () =>
        state.storage.sql.exec<{ at: number | null }>("SELECT last_used_at AS at FROM tokens WHERE id = ?", agent).one()
          .at;
      const lastUse = (store: TokenStore) => store.list().find((token) => token.id === agent)?.lastUsedAt;
      const before = lastUse(tokens);
      tokens.verify(hash, "agent", 1_000);
      tokens.verify(hash, "agent", 30_000);
      const listed = lastUse(tokens);
      const storedBeforeFlush = stored();
      writes.flush();
      const flushed = stored();
      tokens.verify(hash, "agent", 61_000);
      tokens.verify(hash, "gateway", 200_000);
      writes.flush();
      return {
        before,
        listed,
        storedBeforeFlush,
        flushed,
        later: stored(),
        reread: lastUse(new TokenStore(state.storage.sql, writes)),
      };
    });
    expect(seen).toEqual({
      before: null,
      listed: 1_000,
      storedBeforeFlush: null,
      flushed: 1_000,
      later: 61_000,
      reread: 61_000,
    });
  });
});
