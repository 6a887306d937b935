/**
 * A 300 MiB file in a sandbox (TETHER_BENCH_LARGE_MIB to change it): how much memory workerd needs
 * while the tools and the shell work on it. The edge runs in workerd, a child process of this benchmark (test/helpers/edge.ts); its
 * resident memory is sampled every 20 ms during each operation (peak_rss_mib) and its kernel peak
 * (VmHWM) read after it. A sandbox Durable Object has 128 MB in production, so what matters is
 * that no operation's peak grows with the file: each reads a chunk (1 MiB) at a time.
 */

import { largeFile, RARE_TEXT } from "../test/fixtures/large-file.ts";
import { startEdge } from "../test/helpers/edge.ts";
import { round } from "./lib/measure.ts";
import { anonMiB, descendantsNamed, hwmMiB, peakRss } from "./lib/memory.ts";
import { printTable, type Row, writeResults } from "./lib/report.ts";

/** File size in MiB (default 300); a smaller one shows whether memory follows the file's size. */
const MIB = Number(process.env.TETHER_BENCH_LARGE_MIB ?? 300);
const LINES = Math.floor((MIB * 1024 * 1024) / 100);
const FILE = largeFile(LINES, Math.floor(LINES * 0.6));
const PATH = "/workspace/big.txt";

export default async function largeFileBench(): Promise<void> {
  const edge = await startEdge();
  try {
    const pids = descendantsNamed("workerd");
    if (pids.length === 0) throw new Error("no workerd child process found");
    const admin = { authorization: `Bearer ${edge.adminToken}`, "content-type": "application/json" };
    const created = await fetch(`${edge.url}/v1/sandboxes`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ id: "bench-large", quota_bytes: 512 * 1024 * 1024 }),
    });
    const { token } = (await created.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    let seq = 0;
    const tool = async (name: string, input: Record<string, unknown>): Promise<string> => {
      const res = await fetch(`${edge.url}/v1/sandboxes/bench-large/tool-calls`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ type: "tool_use", id: `toolu_${++seq}`, name, input }),
      });
      const body = (await res.json()) as { content: Array<{ is_error: boolean; content: Array<{ text: string }> }> };
      const result = body.content[0];
      const text = result?.content.map((c) => c.text).join("") ?? "";
      return `${result?.is_error ? "is_error: " : ""}${text.split("\n")[0]?.slice(0, 60) ?? ""}`;
    };

    const rows: Row[] = [];
    const step = async (operation: string, work: () => Promise<string>) => {
      const started = performance.now();
      const { value, peakMiB, baseMiB } = await peakRss(pids, work);
      rows.push({
        operation,
        ms: round(performance.now() - started),
        rss_before_mib: Math.max(...baseMiB),
        peak_rss_mib: Math.max(...peakMiB),
        vm_hwm_mib: Math.max(...pids.map(hwmMiB)),
        anon_after_mib: Math.max(...pids.map(anonMiB)),
        answer: value,
      });
    };

    await step(`PUT ${MIB} MiB (files API, streamed)`, async () => {
      const res = await fetch(`${edge.url}/v1/sandboxes/bench-large/files${PATH}`, {
        method: "PUT",
        headers: auth,
        body: FILE.stream(),
        duplex: "half",
      } as RequestInit);
      return `${res.status} ${await res.text()}`;
    });
    await step("read first lines", () => tool("read", { file_path: PATH, view_range: [1, 20] }));
    const middle = Math.floor(FILE.lines / 2);
    await step("read a middle range", () => tool("read", { file_path: PATH, view_range: [middle, middle + 20] }));
    await step("read the end", () => tool("read", { file_path: PATH, view_range: [FILE.lines - 20, -1] }));
    await step("read whole (capped at 256 KiB)", () => tool("read", { file_path: PATH }));
    await step("grep tool: one rare line", () => tool("grep", { pattern: RARE_TEXT, path: PATH }));
    await step("edit near the end", () =>
      tool("edit", { file_path: PATH, old_string: FILE.line(FILE.lines - 5), new_string: "edited" }),
    );
    await step("text editor insert near the start", () =>
      tool("str_replace_based_edit_tool", { command: "insert", path: PATH, insert_line: 1, insert_text: "new" }),
    );
    await step("bash wc -l", () => tool("bash", { command: "wc -l big.txt" }));
    await step("bash head -n 20", () => tool("bash", { command: "head -n 20 big.txt" }));
    await step("bash tail -n 20", () => tool("bash", { command: "tail -n 20 big.txt" }));
    await step("bash sed -n range", () => tool("bash", { command: `sed -n '${middle},${middle + 20}p' big.txt` }));
    await step("bash cat (refused)", () => tool("bash", { command: "cat big.txt" }));
    await step("bash grep (refused)", () => tool("bash", { command: `grep ${RARE_TEXT} big.txt` }));

    printTable(`Sandbox with a ${MIB} MiB file: workerd memory per operation`, rows);
    const peak = Math.max(...rows.slice(1).map((row) => row.peak_rss_mib as number));
    console.log(`\nworkerd peak RSS over the tool and shell operations: ${peak} MiB`);
    console.log(`wrote ${writeResults("sandbox-large-file", { fileMiB: MIB, rows, toolPeakRssMiB: peak })}`);
  } finally {
    await edge.close();
  }
}
