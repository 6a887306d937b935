/**
 * Sandbox benchmarks against the edge run in-process (Miniflare's API via the shared test helper),
 * with the Worker's trivial route measured beside them as the floor:
 *  - create a sandbox + first bash command (p50/p99)
 *  - warm tool calls: read, write, edit, glob, grep, bash (p50/p99)
 *  - grep across 1,000 files / 10 MiB
 *  - run_code in a fresh isolate (p50/p99)
 *  - 100 sandboxes created concurrently
 */
import { startEdge } from "../test/helpers/edge.ts";
import { type LoadResult, measure, round, timed } from "./lib/measure.ts";
import { printTable, type Row, writeResults } from "./lib/report.ts";

interface ToolUse {
  type: "tool_use";
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export default async function sandboxBench(): Promise<void> {
  const edge = await startEdge();
  const admin = { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" };
  let seq = 0;
  const create = async (id: string): Promise<string> => {
    const res = await fetch(`${edge.url}/v1/sandboxes`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ id }),
    });
    if (!res.ok) throw new Error(`create ${id}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  const call = async (id: string, token: string, name: string, input: Record<string, unknown>) => {
    const block: ToolUse = { type: "tool_use", id: `toolu_${++seq}`, name, input };
    const res = await fetch(`${edge.url}/v1/sandboxes/${id}/tool-calls`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(block),
    });
    const body = (await res.json()) as { content: Array<{ is_error?: boolean; content: unknown }> };
    if (!res.ok || body.content[0]?.is_error) throw new Error(`${name} failed: ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  };

  try {
    const rows: Row[] = [];
    const add = (name: string, r: LoadResult, extra: Row = {}) =>
      rows.push({ benchmark: name, p50_ms: r.p50Ms, p99_ms: r.p99Ms, calls: r.calls, errors: r.errors, ...extra });

    const floor = await measure(async () => (await fetch(`${edge.url}/ping`)).text(), {
      concurrency: 1,
      requests: 300,
    });
    add("trivial route (floor)", floor);

    let n = 0;
    const createFirst = await measure(
      async () => {
        const id = `bench-create-${n++}`;
        await call(id, await create(id), "bash", { command: "echo ready" });
      },
      { concurrency: 1, requests: 60, warmup: 3 },
    );
    add("create + first bash", createFirst);

    const id = "bench-warm";
    const token = await create(id);
    await call(id, token, "write", { file_path: "/workspace/notes.txt", content: "alpha\nbeta\ngamma\n".repeat(50) });
    await call(id, token, "write", { file_path: "/workspace/toggle.txt", content: "state: off\n" });
    // Each edit flips the state, so every call changes the file (an edit that changes nothing is refused).
    let on = false;
    const flip = () => {
      on = !on;
      return on ? ["state: off", "state: on"] : ["state: on", "state: off"];
    };
    const warm: Array<[string, () => Record<string, unknown>]> = [
      ["read", () => ({ file_path: "/workspace/notes.txt" })],
      ["write", () => ({ file_path: "/workspace/out.txt", content: `line ${seq}\n` })],
      [
        "edit",
        () => {
          const [old_string, new_string] = flip();
          return { file_path: "/workspace/toggle.txt", old_string, new_string };
        },
      ],
      ["glob", () => ({ pattern: "**/*.txt", path: "/workspace" })],
      ["grep", () => ({ pattern: "gamma", path: "/workspace" })],
      ["bash", () => ({ command: "echo hi | tr a-z A-Z" })],
    ];
    for (const [tool, input] of warm) {
      add(`warm ${tool}`, await measure(() => call(id, token, tool, input()), { concurrency: 1, requests: 200 }), {
        above_floor_ms: 0,
      });
    }
    for (const row of rows)
      if (typeof row.above_floor_ms === "number") row.above_floor_ms = round((row.p50_ms as number) - floor.p50Ms);

    // 1,000 files of ~10 KiB each = ~10 MiB, staged through PUT, then one grep over all of them.
    const grepId = "bench-grep";
    const grepToken = await create(grepId);
    const body = `${"lorem ipsum dolor sit amet ".repeat(380)}\n`;
    await measure(
      async (worker) => {
        const i = n++;
        const res = await fetch(`${edge.url}/v1/sandboxes/${grepId}/files/workspace/corpus/d${i % 10}/f${i}.txt`, {
          method: "PUT",
          headers: { authorization: `Bearer ${grepToken}` },
          body: i === 500 ? `${body}needle ${worker}\n` : body,
        });
        if (!res.ok) throw new Error(`PUT: ${res.status}`);
      },
      { concurrency: 8, requests: 1000, warmup: 0, maxMs: 120_000 },
    );
    const grep = await measure(
      () => call(grepId, grepToken, "grep", { pattern: "needle", path: "/workspace/corpus" }),
      {
        concurrency: 1,
        requests: 5,
        warmup: 1,
        maxMs: 60_000,
      },
    );
    add("grep 1,000 files / 10 MiB", grep);

    const runCode = await measure(
      () => call(id, token, "run_code", { language: "javascript", code: "console.log(6 * 7)" }),
      { concurrency: 1, requests: 100 },
    );
    add("run_code (fresh isolate)", runCode);

    const many = await timed(() => Promise.all(Array.from({ length: 100 }, (_, i) => create(`bench-many-${i}`))));
    rows.push({
      benchmark: "100 sandboxes created concurrently",
      p50_ms: undefined,
      p99_ms: undefined,
      calls: 100,
      errors: 0,
      total_ms: many.ms,
    });

    const targets = {
      "create + first command p50 <= 15 ms": createFirst.p50Ms <= 15,
      "warm tool call p50 <= floor + 3 ms": rows
        .filter((r) => typeof r.above_floor_ms === "number")
        .every((r) => (r.above_floor_ms as number) <= 3),
      "grep over 1,000 files <= 200 ms": grep.p50Ms <= 200,
      "run_code p50 <= 10 ms": runCode.p50Ms <= 10,
    };
    printTable("Sandbox benchmarks (edge in-process via Miniflare)", rows);
    printTable(
      "Targets",
      Object.entries(targets).map(([target, met]) => ({ target, met })),
    );
    console.log(`\nwrote ${writeResults("sandbox", { rows, targets })}`);
  } finally {
    await edge.close();
  }
}
