/**
 * Forged-token refusals, timed: a well-formed token with a wrong secret for the tunnel that exists
 * and for a name with no tunnel, agent (POST to the MCP endpoint) and gateway (the connect
 * upgrade). The answers are identical by construction (test/workers/tunnel-token-probing.test.ts);
 * this measures that their timing is too, within the machine's noise. The four kinds run
 * interleaved, one request at a time, in an order rotated every round so that neither goes first
 * or follows the other more often, and noise hits them alike.
 */
import { request } from "node:http";
import { percentile, round } from "../lib/measure.ts";
import type { Row } from "../lib/report.ts";
import type { Target } from "./targets.ts";

export interface RefusalRow extends Row {
  token: string;
  tunnel: string;
  calls: number;
  p50Ms: number;
  p90Ms: number;
}

const ROUNDS = 300;
const WARMUP = 20;
const MISSING = "no-such-tunnel";

/** One request; resolves with its status once the whole answer has arrived. */
function send(edgeUrl: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  const { hostname, port } = new URL(edgeUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: body ? "POST" : "GET", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export async function measureRefusals(
  edgeUrl: string,
  tunnel: string,
): Promise<{ rows: RefusalRow[]; targets: Target[] }> {
  const forged = (kind: "ag" | "gw", name: string) => `Bearer tth.${kind}.${name}.${"Q".repeat(40)}`;
  const kinds = [
    { token: "agent", tunnel: "exists", name: tunnel },
    { token: "agent", tunnel: "missing", name: MISSING },
    { token: "gateway", tunnel: "exists", name: tunnel },
    { token: "gateway", tunnel: "missing", name: MISSING },
  ].map((kind) => ({
    ...kind,
    latencies: [] as number[],
    call: () =>
      kind.token === "agent"
        ? send(
            edgeUrl,
            `/t/${kind.name}/echo/mcp`,
            {
              authorization: forged("ag", kind.name),
              "content-type": "application/json",
              accept: "application/json, text/event-stream",
            },
            '{"jsonrpc":"2.0","id":1,"method":"ping"}',
          )
        : send(edgeUrl, `/t/${kind.name}/connect`, {
            authorization: forged("gw", kind.name),
            connection: "Upgrade",
            upgrade: "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          }),
  }));
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const shift = round % kinds.length;
    for (const kind of [...kinds.slice(shift), ...kinds.slice(0, shift)]) {
      const t0 = performance.now();
      const status = await kind.call();
      const ms = performance.now() - t0;
      if (status !== 401) throw new Error(`forged ${kind.token} token, ${kind.tunnel} tunnel: ${status}, not 401`);
      if (round >= WARMUP) kind.latencies.push(ms);
    }
  }
  const rows: RefusalRow[] = kinds.map(({ token, tunnel: which, latencies }) => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      token,
      tunnel: which,
      calls: sorted.length,
      p50Ms: round(percentile(sorted, 0.5), 3),
      p90Ms: round(percentile(sorted, 0.9), 3),
    };
  });
  const targets = ["agent", "gateway"].map((token): Target => {
    const [exists, missing] = ["exists", "missing"].map((which) =>
      rows.find((r) => r.token === token && r.tunnel === which),
    );
    const gap = Math.abs((exists?.p50Ms ?? 0) - (missing?.p50Ms ?? 0));
    const allowed = Math.max(0.1, 0.1 * (exists?.p50Ms ?? 0));
    return {
      target: `forged ${token} token: p50 for a missing tunnel within max(0.1 ms, 10%) of an existing one`,
      measured: `${exists?.p50Ms} vs ${missing?.p50Ms} ms (gap ${round(gap, 3)} ms)`,
      met: gap <= allowed,
    };
  });
  return { rows, targets };
}
