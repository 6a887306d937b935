/**
 * CPU-bound commands in a sandbox (edge in-process via Miniflare): how long each takes to stop,
 * and the pace of each kind of work that the work budget (src/sandbox/bash/work-budget.ts) is
 * calibrated from. Locally the clock still advances during computation, so a stop here is
 * whichever comes first, the timeout or the work budget; in production only the budget can stop
 * pure computation. Every case is bounded by its timeout_ms.
 */
import { WORK_PER_SECOND } from "../src/sandbox/bash/work-budget.ts";
import { startEdge } from "../test/helpers/edge.ts";
import { round, timed } from "./lib/measure.ts";
import { printTable, type Row, writeResults } from "./lib/report.ts";

const EVIL = `${"a".repeat(40)}!`;
const HEAVY = "x=$(( (i*i*i*i*i*i*i*i + i*7 - i/3 + i%5) ^ (i<<2) | (i>>1) & 255 ))";

/** Runaway commands: each must end in an is_error result. */
const RUNAWAY: Array<[string, string]> = [
  ["awk 'BEGIN{for(;;)x++}'", "awk 'BEGIN{for(;;)x++}'"],
  ["shell loop, heavy arithmetic", `for ((i = 0; ; i++)); do ${HEAVY}; done`],
  ["while :; do i=$((i+1)); done", "i=0; while :; do i=$((i + 1)); done"],
  ["sed endless branch", "echo x | sed ':a;s/x/x/;ba'"],
];

/** Catastrophic patterns for a backtracking engine: each must simply finish. */
const REGEX: Array<[string, string, Record<string, unknown>]> = [
  ["grep tool (a+)+$", "grep", { pattern: "(a+)+$", path: "/workspace/evil.txt" }],
  ["glob tool **/*a*a*a*a*a*a*a*a*a*b", "glob", { pattern: "**/*a*a*a*a*a*a*a*a*a*b" }],
  ["bash grep -E (a+)+$", "bash", { command: "grep -E '(a+)+$' evil.txt; true" }],
  ["bash sed -E (a+)+$", "bash", { command: "sed -E 's/(a+)+$/X/' evil.txt" }],
  ["bash awk /(a+)+$/", "bash", { command: "awk '/(a+)+$/' evil.txt" }],
];

/** Work of a known size, to measure each kind's pace: [name, command, units, WORK_PER_SECOND key]. */
const PACE: Array<[string, string, number, keyof typeof WORK_PER_SECOND]> = [
  ["shell commands (heavy arithmetic)", `for ((i = 0; i < 20000; i++)); do ${HEAVY}; done`, 20_000, "commands"],
  ["shell commands (i=$((i+1)))", "i=0; while ((i < 20000)); do i=$((i + 1)); done", 40_000, "commands"],
  ["awk loop iterations", "awk 'BEGIN{for(i=0;i<200000;i++)x++}'", 200_000, "awk"],
];

export default async function sandboxCpuBench(): Promise<void> {
  const edge = await startEdge();
  const admin = { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" };
  let seq = 0;
  try {
    const created = await fetch(`${edge.url}/v1/sandboxes`, { method: "POST", headers: admin, body: "{}" });
    const { id, token } = (await created.json()) as { id: string; token: string };
    const call = async (name: string, input: Record<string, unknown>) => {
      const res = await fetch(`${edge.url}/v1/sandboxes/${id}/tool-calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "tool_use", id: `toolu_${++seq}`, name, input }),
      });
      const body = (await res.json()) as {
        content: Array<{ is_error: boolean; content: Array<{ text: string }> }>;
        meta: Array<{ error_kind?: string }>;
      };
      return {
        isError: body.content[0]!.is_error,
        text: body.content[0]!.content[0]!.text,
        kind: body.meta[0]?.error_kind,
      };
    };
    await call("bash", {
      command: `printf '%s\\n' '${EVIL}' > evil.txt; echo kept > keep.txt; touch ${"a".repeat(200)}!`,
    });

    const stops: Row[] = [];
    for (const timeoutMs of [2_000, 10_000]) {
      for (const [name, command] of RUNAWAY) {
        const { ms, value } = await timed(() => call("bash", { command, timeout_ms: timeoutMs }));
        const next = await call("bash", { command: "cat keep.txt" });
        stops.push({
          case: name,
          timeout_ms: timeoutMs,
          stopped_after_ms: Math.round(ms),
          is_error: value.isError,
          error_kind: value.kind,
          next_cat_ok: next.text === "kept\n",
        });
      }
    }
    printTable("Runaway commands: time until stopped (timeout or its work budget, one wording)", stops);

    const regex: Row[] = [];
    for (const [name, tool, input] of REGEX) {
      const { ms, value } = await timed(() => call(tool, input));
      regex.push({ case: name, finished_after_ms: Math.round(ms), is_error: value.isError });
    }
    printTable(`Catastrophic patterns: 40 a's and a !, a 200-character name (linear-time engine)`, regex);

    const pace: Row[] = [];
    for (const [name, command, units, key] of PACE) {
      const { ms, value } = await timed(() => call("bash", { command, timeout_ms: 300_000 }));
      const perSecond = Math.round((units / ms) * 1000);
      pace.push({
        work: name,
        units,
        ms: Math.round(ms),
        per_second: perSecond,
        budget_per_second: WORK_PER_SECOND[key],
        budget_share: round(WORK_PER_SECOND[key] / perSecond),
        ok: !value.isError,
      });
    }
    printTable("Pace of work (the budget should be at most about this, so it stops near the timeout)", pace);
    console.log(`\nwrote ${writeResults("sandbox-cpu", { stops, regex, pace })}`);
  } finally {
    await edge.close();
  }
}
