/**
 * The audit trail's export at size, against the real edge in workerd: 100,000 rows of a sandbox's
 * tool-call trail stream through `GET /admin/audit` while the memory of the workerd process (the
 * exporter: the Worker paging through the Durable Object) stays bounded, and `tether audit export`
 * (a real process) writes them to a file.
 *
 * Seeding goes through the product's own path, fast: tool-call requests of 12,500 blocks of an
 * unknown tool, each answered at once with an error and recorded in the trail like any call.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { AuditRecordSchema } from "../../src/audit/audit-record.ts";
import { descendantsOf } from "../../src/gateway/executor/process/sandbox-launch.ts";
import { ROOT } from "../helpers/edge.ts";
import { NODE, spawnProcess, stopAll } from "../helpers/processes.ts";
import { within } from "../helpers/stdio-fixtures.ts";
import { sandboxEdge } from "./sandbox-helpers.ts";

const h = sandboxEdge();
const MAIN = `${ROOT}src/cli/main.ts`;
const ROWS = 100_000;
const BLOCKS_PER_REQUEST = 12_500;
/** The exporter may grow workerd's resident memory by at most this while streaming ~40 MB of lines. */
const MEMORY_BOUND_BYTES = 48 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "tether-audit-"));

afterEach(async () => {
  await stopAll();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The workerd process Miniflare started for this test file (a descendant of this process). */
function workerdPid(): number {
  const pids = descendantsOf(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd";
    } catch {
      return false;
    }
  });
  if (pids.length !== 1) throw new Error(`expected one workerd process, found ${pids.length}`);
  return pids[0] as number;
}

function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kib) * 1024;
}

let sandboxId = "";

async function seeded(): Promise<string> {
  if (sandboxId) return sandboxId;
  const sandbox = await h.create({ audit: { max_rows: 200_000 } });
  for (let start = 0; start < ROWS; start += BLOCKS_PER_REQUEST) {
    const blocks = Array.from({ length: BLOCKS_PER_REQUEST }, (_, i) => ({
      type: "tool_use",
      id: `r${start + i}`,
      name: "nope",
      input: { n: start + i },
    }));
    const res = await h.toolCalls(sandbox, blocks);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  sandboxId = sandbox.id;
  return sandboxId;
}

describe("exporting the audit trail at size", () => {
  test(`${ROWS.toLocaleString("en")} rows stream through /admin/audit in order, with the exporter's memory bounded`, async () => {
    const id = await seeded();
    const pid = workerdPid();
    const baseline = residentBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(pid));
    }, 10);
    let lines = 0;
    let bytes = 0;
    let expectedId = ROWS;
    try {
      const res = await fetch(`${h.edge().url}/admin/audit?sandbox=${id}&kind=sandbox_call&format=jsonl`, {
        headers: { authorization: `Bearer ${h.edge().adminToken}` },
        signal: AbortSignal.timeout(300_000),
      });
      expect(res.status).toBe(200);
      const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (!reader) throw new Error("no body");
      let rest = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
        const parts = (rest + value).split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) {
          const record = AuditRecordSchema.parse(JSON.parse(line));
          // Newest first, every row exactly once.
          if (record.id !== expectedId) throw new Error(`line ${lines}: id ${record.id}, expected ${expectedId}`);
          if (record.sandbox !== id || record.what !== "nope") throw new Error(`line ${lines}: ${line}`);
          expectedId--;
          lines++;
        }
        peak = Math.max(peak, residentBytes(pid));
      }
      expect(rest).toBe("");
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    console.log(
      `exported ${lines} lines, ${(bytes / 1048576).toFixed(1)} MiB; workerd RSS ${(baseline / 1048576).toFixed(1)} MiB before, peak ${(peak / 1048576).toFixed(1)} MiB (+${(growth / 1048576).toFixed(1)} MiB)`,
    );
    expect(lines).toBe(ROWS);
    // The export is much larger than the bound: holding it (or a large part) would break it.
    expect(bytes).toBeGreaterThan((2 * MEMORY_BOUND_BYTES) / 3);
    expect(growth).toBeLessThan(MEMORY_BOUND_BYTES);
  });

  test("tether audit export writes the same lines to a file; bad filters are the edge's clear refusal", async () => {
    const id = await seeded();
    const out = join(dir, "audit.jsonl");
    const env = { TETHER_EDGE: h.edge().url, TETHER_ADMIN_TOKEN: h.edge().adminToken };
    const run = async (args: string[]) => {
      const proc = spawnProcess("tether", NODE, [MAIN, "audit", ...args], { env });
      const exit = await within(proc.exited, 240_000, `tether audit ${args.join(" ")}`);
      return { code: exit.code, output: proc.output() };
    };
    const exported = await run([
      "export",
      "--sandbox",
      id,
      "--kind",
      "sandbox_call",
      "--since",
      "2020-01-01",
      "--out",
      out,
    ]);
    expect(exported.code, exported.output).toBe(0);
    expect(exported.output).toContain(`exported ${ROWS} records to ${out}`);
    const text = readFileSync(out, "utf8");
    const lines = text.split("\n").filter((line) => line !== "");
    expect(lines).toHaveLength(ROWS);
    expect(AuditRecordSchema.parse(JSON.parse(lines[0] ?? "")).id).toBe(ROWS);
    expect(AuditRecordSchema.parse(JSON.parse(lines.at(-1) ?? "")).id).toBe(1);

    const bad = await run(["export", "--since", "last-tuesday"]);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain(
      'since: expected an ISO 8601 time (2026-12-01T10:00:00Z) or epoch milliseconds, got "last-tuesday"',
    );
    const usage = await run(["export", "--tunnel"]);
    expect(usage.code).toBe(2);
    const noEdge = spawnProcess("tether", NODE, [MAIN, "audit", "export"], {
      env: { TETHER_EDGE: "", TETHER_ADMIN_TOKEN: "" },
    });
    expect((await within(noEdge.exited, 60_000, "tether audit export without an edge")).code).toBe(2);
    expect(noEdge.output()).toContain("--edge URL is required");
  });
});
