import { describe, expect, test } from "vitest";
import { consoleFetch, page, seedSessions, seedTraces, session, tableRows, textOf } from "./console-page-fixtures.ts";
import { callTrace, createTunnel, eventually, jsonRpc, warmUpEdge } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

interface PollAnswer {
  rows: Array<{ id: number; tool: string | null; html: string }>;
  lastId: number;
  next: number | null;
}

async function poll(path: string): Promise<PollAnswer> {
  const res = await consoleFetch(path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as PollAnswer;
}

const HOSTILE = `<script>alert("x")</script>`;

describe("console: a tunnel's call trace", () => {
  test("filters by server, tool, status and session from the URL, and the form keeps them", async () => {
    const tunnel = await createTunnel();
    await seedTraces(tunnel.name, [
      { ...callTrace("tools/call"), server: "docs", tool: "search", sessionId: "s-1" },
      {
        ...callTrace("tools/call"),
        server: "docs",
        tool: "fetch",
        sessionId: "s-1",
        status: 502,
        error: "upstream down",
      },
      { ...callTrace("tools/call"), server: "files", tool: "search", sessionId: "s-2" },
      { ...callTrace("initialize"), server: "docs", sessionId: null },
    ]);
    const base = `/console/tunnels/${tunnel.name}/trace`;
    const rows = async (query: string) => tableRows(await page(`${base}${query}`), "trace").map(textOf);
    expect(await rows("")).toHaveLength(4);
    expect(await rows("?server=docs")).toHaveLength(3);
    expect(await rows("?server=docs&tool=search")).toEqual([expect.stringContaining("docs tools/call search 200")]);
    expect(await rows("?status=error")).toEqual([expect.stringContaining("502")]);
    expect((await rows("?status=error"))[0]).toContain("upstream down");
    expect(await rows("?status=ok&session=s-1")).toHaveLength(1);
    expect(await rows("?server=&tool=&status=&session=")).toHaveLength(4);
    const html = await page(`${base}?server=docs&status=error`);
    expect(html).toContain('<input id="filter-server" name="server" value="docs"/>');
    expect(html).toContain('<option value="error" selected="">Failed</option>');
    expect(html).toContain(`data-live-url="/console/tunnels/${tunnel.name}/trace.json?server=docs&amp;status=error"`);
    expect((await consoleFetch(`${base}?status=maybe`)).status).toBe(400);
  });

  test("pages through older calls with the filters kept", async () => {
    const tunnel = await createTunnel();
    await seedTraces(
      tunnel.name,
      Array.from({ length: 120 }, (_, i) => ({ ...callTrace("tools/call"), tool: i % 2 ? "odd" : "even" })),
    );
    const first = await page(`/console/tunnels/${tunnel.name}/trace?tool=odd`);
    expect(tableRows(first, "trace")).toHaveLength(50);
    const older = /<a href="([^"]+)" rel="next">/.exec(first)?.[1]?.replaceAll("&amp;", "&");
    expect(older).toMatch(/\?tool=odd&before=\d+$/);
    const second = await page(older!);
    expect(tableRows(second, "trace")).toHaveLength(10);
    expect(second).not.toContain('rel="next"');
    // Older pages are not live: new calls belong on the first.
    expect(second).not.toContain("data-live-url");
    const ids = [first, second].flatMap((html) =>
      tableRows(html, "trace").map((row) => Number(/data-id="(\d+)"/.exec(row)?.[1])),
    );
    expect(new Set(ids).size).toBe(60);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  test("the poll endpoint returns only calls after the given id, rendered as rows, with the newest id", async () => {
    const tunnel = await createTunnel();
    await seedTraces(tunnel.name, [callTrace("a"), callTrace("b")]);
    const all = await poll(`/console/tunnels/${tunnel.name}/trace.json`);
    expect(all.rows).toHaveLength(2);
    const newest = all.lastId;
    expect((await poll(`/console/tunnels/${tunnel.name}/trace.json?after=${newest}`)).rows).toEqual([]);
    await seedTraces(tunnel.name, [{ ...callTrace("tools/call"), tool: "late" }]);
    const fresh = await poll(`/console/tunnels/${tunnel.name}/trace.json?after=${newest}`);
    expect(fresh.rows.map((row) => row.tool)).toEqual(["late"]);
    expect(fresh.lastId).toBe(newest + 1);
    expect(fresh.rows[0]?.html).toMatch(/^<tr data-id="\d+" class="fresh">.*late.*<\/tr>$/s);
    // Filters apply to polls too.
    expect((await poll(`/console/tunnels/${tunnel.name}/trace.json?after=0&tool=late`)).rows).toHaveLength(1);
  });

  test("a real call through the tunnel reaches the poll endpoint", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const { lastId } = await poll(`/console/tunnels/${tunnel.name}/trace.json`);
    await gateway.answerCall(
      tunnel,
      jsonRpc("tools/call", { name: "lookup", arguments: {} }),
      JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} }),
    );
    let rows: PollAnswer["rows"] = [];
    await eventually(async () => {
      rows = (await poll(`/console/tunnels/${tunnel.name}/trace.json?after=${lastId}`)).rows;
      return rows.length > 0;
    }, "the call in the trace");
    expect(rows[0]?.tool).toBe("lookup");
    expect(textOf(rows[0]!.html)).toContain("echo tools/call lookup 200");
    // The call counts in the tunnel's metrics, on its page and in the list.
    await eventually(
      async () => /<dt>Error rate \(5 min\)<\/dt><dd>0%<\/dd>/.test(await page(`/console/tunnels/${tunnel.name}`)),
      "the call in the metrics",
    );
    const listed = tableRows(await page("/console/tunnels"), "tunnels").find((r) => r.includes(`/${tunnel.name}"`));
    expect(textOf(listed ?? "")).toMatch(/ 0% \d+ ms \/ \d+ ms/);
    gateway.close();
  });

  test("hostile strings in tool names, errors, servers and sessions are escaped, in the page and the poll", async () => {
    const tunnel = await createTunnel();
    await seedTraces(tunnel.name, [
      { ...callTrace("tools/call"), tool: HOSTILE, error: `<img src=x onerror=alert(1)>`, sessionId: `"><b>s` },
    ]);
    await seedSessions(tunnel.name, [{ ...session("echo", `<i>${HOSTILE}`), clientName: HOSTILE }]);
    for (const html of [
      await page(`/console/tunnels/${tunnel.name}`),
      await page(`/console/tunnels/${tunnel.name}/trace`),
      (await poll(`/console/tunnels/${tunnel.name}/trace.json`)).rows[0]!.html,
    ]) {
      expect(html).not.toContain("<script>alert");
      expect(html).not.toContain("<img src=x");
      expect(html).not.toContain('"><b>');
      expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    }
  });
});

describe("console: a tunnel's sessions", () => {
  test("the tunnel page shows the most recent sessions; the sessions page pages through them all", async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    await seedSessions(
      tunnel.name,
      Array.from({ length: 60 }, (_, i) => session("echo", `sess-${String(i).padStart(2, "0")}`, now - i * 1000)),
    );
    const overview = await page(`/console/tunnels/${tunnel.name}`);
    const recent = tableRows(overview, "sessions").map(textOf);
    expect(recent).toHaveLength(20);
    expect(recent[0]).toMatch(/sess-00 echo test-client 1\.2\.3 2025-06-18 ag_test gw-test \(gone\)/);
    expect(overview).toContain(`href="/console/tunnels/${tunnel.name}/sessions">All sessions</a>`);
    const first = await page(`/console/tunnels/${tunnel.name}/sessions`);
    expect(tableRows(first, "sessions")).toHaveLength(50);
    const older = /<a href="([^"]+)" rel="next">/.exec(first)?.[1]?.replaceAll("&amp;", "&");
    const second = await page(older!);
    const rest = tableRows(second, "sessions").map((row) => /sess-\d+/.exec(textOf(row))?.[0]);
    expect(rest).toEqual(Array.from({ length: 10 }, (_, i) => `sess-${50 + i}`));
    expect(overview).toContain('aria-label="End session sess-00"');
  });
});

describe("console: the sessions page's filter", () => {
  test("filters by server and keeps the filter when paging", async () => {
    const tunnel = await createTunnel();
    const now = Date.now();
    await seedSessions(tunnel.name, [
      ...Array.from({ length: 55 }, (_, i) => session("docs", `d-${i}`, now - i)),
      ...Array.from({ length: 5 }, (_, i) => session("files", `f-${i}`, now - i)),
    ]);
    const files = await page(`/console/tunnels/${tunnel.name}/sessions?server=files`);
    expect(tableRows(files, "sessions").map((row) => /f-\d/.exec(textOf(row))?.[0])).toEqual([
      "f-0",
      "f-1",
      "f-2",
      "f-3",
      "f-4",
    ]);
    const docs = await page(`/console/tunnels/${tunnel.name}/sessions?server=docs`);
    const older = /<a href="([^"]+)" rel="next">/.exec(docs)?.[1]?.replaceAll("&amp;", "&");
    expect(older).toMatch(/\?server=docs&before=/);
    expect(tableRows(await page(older!), "sessions")).toHaveLength(5);
    expect((await consoleFetch(`/console/tunnels/no-such-tunnel/sessions`)).status).toBe(404);
  });
});
