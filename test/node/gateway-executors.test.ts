/**
 * A gateway with executors, over a real tunnel to a stand-in edge: Hello announces them apart
 * from the servers, Open frames for `executor:NAME` reach them (and only them), refusals start
 * nothing, and stopping drains calls in flight before every executor is closed. The executors
 * are small in-memory implementations of a few routes of the executor API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, onTestFinished, test } from "vitest";
import { DEFAULT_PASSED_ENV } from "../../src/gateway/executor/executor-config.ts";
import type { ExecutorUpstream } from "../../src/gateway/executors.ts";
import { startGateway } from "../../src/gateway/gateway.ts";
import { GatewayConfigError } from "../../src/gateway/load-config.ts";
import type { Upstream } from "../../src/gateway/upstream.ts";
import {
  type ExecutorAnnouncement,
  type ExecutorSandboxInfo,
  type ExecutorToolLine,
  executorPaths,
  executorUpstreamName,
} from "../../src/protocol/executor-api.ts";
import { decodeJson, FrameType } from "../../src/protocol/frames.ts";
import { type Hello, HelloSchema, type Open, OpenSchema } from "../../src/protocol/messages.ts";
import * as z from "../../src/protocol/zod-mini.ts";
import { startFakeEdge } from "../helpers/fake-edge.ts";
import {
  GATEWAY_TOKEN,
  type Harness,
  logged,
  ScriptedUpstream,
  startHarness,
  TUNNEL,
  text,
} from "../helpers/gateway-harness.ts";
import { until } from "../helpers/stdio-fixtures.ts";

/**
 * An executor serving `GET /sandboxes/ID` and `POST /sandboxes/ID/tools/echo` (NDJSON: the input
 * as output, then an outcome); `tools/hold` streams one line and finishes when `release()` is
 * called. It records the calls it is handling when it is closed.
 */
class MemoryExecutor implements ExecutorUpstream {
  readonly name: string;
  // Upstream's kind names the server kinds; an executor is told apart by its announcement.
  readonly kind = "executor" as unknown as Upstream["kind"];
  readonly allowPaths = ["/sandboxes/*"];
  readonly announcement: ExecutorAnnouncement;
  readonly calls: { method: string; path: string }[] = [];
  active = 0;
  closed = false;
  activeWhenClosed: number | null = null;
  closeError: Error | null = null;
  #release: (() => void) | undefined;

  constructor(name: string, isolate: ExecutorAnnouncement["isolate"] = "none") {
    this.name = name;
    this.announcement = { name, instance: `inst-${name}`, isolate, network: "off", maxSessions: 4 };
  }

  release(): void {
    this.#release?.();
  }

  async handle(request: Request, path: string): Promise<Response> {
    this.calls.push({ method: request.method, path });
    const match = /^\/sandboxes\/([^/]+)(?:\/tools\/([^/]+))?$/.exec(path);
    if (match?.[2] === undefined && match && request.method === "GET") {
      const info: ExecutorSandboxInfo = { exists: false, workspaceBytes: 0, instance: this.announcement.instance };
      return Response.json(info);
    }
    if (match?.[2] && request.method === "POST") {
      const { input } = (await request.json()) as { input: { text?: string } };
      const lines: ExecutorToolLine[] = [
        { type: "output", stream: "stdout", text: input.text ?? "" },
        { type: "outcome", outcome: { text: `${match[2]} done`, exitCode: 0 } },
      ];
      const encode = (line: ExecutorToolLine) => text(`${JSON.stringify(line)}\n`);
      this.active++;
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          controller.enqueue(encode(lines[0] as ExecutorToolLine));
          const finish = () => {
            controller.enqueue(encode(lines[1] as ExecutorToolLine));
            controller.close();
            this.active--;
          };
          if (match[2] === "hold") this.#release = finish;
          else finish();
        },
      });
      return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
    }
    return Response.json(
      { error: { code: "not_found", message: `no route ${request.method} ${path}` } },
      { status: 404 },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.activeWhenClosed = this.active;
    if (this.closeError) throw this.closeError;
  }
}

const open = (server: string, method: string, path: string, hasBody = false): Open => ({
  server,
  method,
  path,
  query: "",
  headers: hasBody ? [["content-type", "application/json"]] : [],
  hasBody,
});

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const ok = async () => new Response("from the server");

test("Hello announces executors apart from servers; edges old and new accept it, and a Hello without executors", async () => {
  const dir = "/srv/tether/main";
  harness = await startHarness(
    [new ScriptedUpstream("docs", ok)],
    { executors: [{ name: "main", executor: executorConfig(dir) }], allowRoot: true },
    { executors: [new MemoryExecutor("main"), new MemoryExecutor("ci", "bwrap")] },
  );
  const connection = await harness.edge.nextConnection();
  const frame = await connection.frame((f) => f.type === FrameType.Hello);
  // What the edge's relay reads (durable-objects/tunnel-relay/gateway-frames.ts uses HelloSchema).
  const hello = decodeJson(frame, HelloSchema);
  expect(hello.servers).toEqual([{ name: "docs", kind: "http", allowPaths: [] }]);
  expect(hello.executors).toEqual([
    { name: "main", instance: "inst-main", isolate: "none", network: "off", maxSessions: 4 },
    { name: "ci", instance: "inst-ci", isolate: "bwrap", network: "off", maxSessions: 4 },
  ]);
  // An edge from before executors: the same schema without the key. zod objects drop unknown keys.
  const BeforeExecutors = z.omit(HelloSchema, { executors: true });
  const old = decodeJson(frame, BeforeExecutors);
  expect(old).toEqual({ ...hello, executors: undefined });
  expect("executors" in old).toBe(false);
  // A gateway from before executors says nothing of them: the edge reads none.
  const { executors: _, ...withoutExecutors } = hello;
  expect(HelloSchema.parse(withoutExecutors).executors).toEqual([]);
  const starting = (await logged(harness, "starting"))[0];
  expect(starting?.servers).toBe("docs(http)");
  expect(starting?.executors).toBe(`main(executor:${dir},none),ci(executor:bwrap)`);
  connection.welcome(TUNNEL);
  expect((await logged(harness, "connected"))[0]).toMatchObject({ servers: "docs", executors: "main,ci" });
});

test("Hello's executors are checked: names, and at most 64", () => {
  const base: Hello = { protocol: 1, gatewayId: "gw-1", version: "1", servers: [], executors: [], features: [] };
  const executor = (name: string) => new MemoryExecutor(name).announcement;
  const many = Array.from({ length: 65 }, (_, i) => executor(`e${i}`));
  expect(HelloSchema.safeParse({ ...base, executors: many.slice(0, 64) }).success).toBe(true);
  expect(HelloSchema.safeParse({ ...base, executors: many }).success).toBe(false);
  expect(HelloSchema.safeParse({ ...base, executors: [executor("Main")] }).success).toBe(false);
  expect(HelloSchema.safeParse({ ...base, executors: [{ ...executor("m"), maxSessions: 0 }] }).success).toBe(false);
});

test("Open names a server, or an executor as executor:NAME; nothing else", () => {
  for (const server of ["docs", "a_b-1", "executor:main", `executor:${"x".repeat(63)}`]) {
    expect(OpenSchema.safeParse(open(server, "GET", "")).success, server).toBe(true);
  }
  for (const server of ["", "Docs", "executor:", "executor:Main", "executor:executor:x", "executor:a/b", "exec:x"]) {
    expect(OpenSchema.safeParse(open(server, "GET", "")).success, server).toBe(false);
  }
  expect(executorUpstreamName("main")).toBe("executor:main");
});

test("an Open for executor:NAME reaches that executor with its path and body; a server of the same name keeps its own", async () => {
  const server = new ScriptedUpstream("main", ok);
  const main = new MemoryExecutor("main");
  const other = new MemoryExecutor("other");
  harness = await startHarness([server], {}, { executors: [main, other] });
  expect([...harness.gateway.upstreams.keys()]).toEqual(["main", "executor:main", "executor:other"]);
  const connection = await harness.connected();

  connection.open(1, open("executor:main", "GET", executorPaths.sandbox("s1")));
  expect((await connection.head(1)).status).toBe(200);
  const info = JSON.parse(new TextDecoder().decode((await connection.readBody(1)).body));
  expect(info).toEqual({ exists: false, workspaceBytes: 0, instance: "inst-main" });

  // A streamed request body (Open, DATA, END) and a streamed NDJSON answer.
  connection.open(3, open("executor:main", "POST", executorPaths.tool("s1", "echo"), true));
  connection.data(3, text(JSON.stringify({ input: { text: "hi there" }, env: {} })));
  connection.end(3);
  expect(await connection.head(3)).toMatchObject({ status: 200 });
  const lines = new TextDecoder()
    .decode((await connection.readBody(3)).body)
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  expect(lines).toEqual([
    { type: "output", stream: "stdout", text: "hi there" },
    { type: "outcome", outcome: { text: "echo done", exitCode: 0 } },
  ]);

  connection.open(5, open("main", "GET", ""));
  expect((await connection.head(5)).status).toBe(200);
  expect(new TextDecoder().decode((await connection.readBody(5)).body)).toBe("from the server");

  expect(main.calls).toEqual([
    { method: "GET", path: "/sandboxes/s1" },
    { method: "POST", path: "/sandboxes/s1/tools/echo" },
  ]);
  expect(other.calls).toEqual([]);
  expect(server.calls.map((call) => call.path)).toEqual([""]);
});

test("an unknown executor, a path it does not serve, and a malformed upstream name are refused", async () => {
  const main = new MemoryExecutor("main");
  harness = await startHarness([], {}, { executors: [main] });
  const connection = await harness.connected();
  connection.open(1, open("executor:nope", "GET", "/sandboxes/s1"));
  expect(await connection.resetOf(1)).toEqual({
    code: "not_found",
    message: 'no server "executor:nope" on this gateway',
  });
  // Executors are not reachable under their bare name.
  connection.open(3, open("main", "GET", "/sandboxes/s1"));
  expect((await connection.resetOf(3)).code).toBe("not_found");
  connection.open(5, open("executor:main", "GET", "/admin"));
  expect(await connection.resetOf(5)).toEqual({
    code: "not_found",
    message: 'server "executor:main" does not expose /admin',
  });
  connection.open(7, open("executor:main", "GET", "/sandboxes/../etc"));
  expect((await connection.resetOf(7)).code).toBe("not_found");
  expect(main.calls).toEqual([]);
  // The edge broke the protocol: the gateway closes that socket (4400) and dials again.
  connection.open(9, open("executor:Main!", "GET", "/sandboxes/s1"));
  expect((await connection.closed).code).toBe(4400);
  expect((await logged(harness, "protocol_error"))[0]?.error).toMatch(/server/);
  await harness.connected();
});

test("stopping drains a call in flight to an executor, then closes every executor and server", async () => {
  const server = new ScriptedUpstream("docs", ok);
  const main = new MemoryExecutor("main");
  const ci = new MemoryExecutor("ci");
  harness = await startHarness([server], {}, { executors: [main, ci] });
  const connection = await harness.connected();
  connection.open(1, open("executor:main", "POST", executorPaths.tool("s1", "hold"), true));
  connection.data(1, text(JSON.stringify({ input: { text: "working" } })));
  connection.end(1);
  await connection.head(1);
  await until(() => main.active === 1, 5_000, "the tool call to be running");

  const stopped = harness.gateway.stop();
  await logged(harness, "draining");
  expect([main.closed, ci.closed, server.closed]).toEqual([false, false, false]);
  main.release();
  const { ended } = await connection.readBody(1);
  expect(ended).toBe("end");
  await stopped;
  expect([main.closed, ci.closed, server.closed]).toEqual([true, true, true]);
  expect(main.activeWhenClosed).toBe(0);
  expect(harness.events.map(({ event }) => event)).not.toContain("drain_timeout");
});

test("an executor that fails to close is logged; the others still close", async () => {
  const main = new MemoryExecutor("main");
  const ci = new MemoryExecutor("ci");
  main.closeError = new Error("workspace busy");
  harness = await startHarness([], {}, { executors: [main, ci] });
  await harness.connected();
  await harness.gateway.stop();
  expect([main.closed, ci.closed]).toEqual([true, true]);
  expect(await logged(harness, "upstream_close_failed")).toEqual([{ server: "main", error: "workspace busy" }]);
  await logged(harness, "stopped");
});

test("refused on this machine (root without allowRoot, bwrap missing): nothing starts, nothing dials", async () => {
  const edge = await startFakeEdge();
  const emptyPath = mkdtempSync(join(tmpdir(), "tether-no-bwrap-"));
  onTestFinished(async () => {
    rmSync(emptyPath, { recursive: true, force: true });
    await edge.close();
  });
  const server = new ScriptedUpstream("docs", ok);
  const main = new MemoryExecutor("main", "bwrap");
  const events: string[] = [];
  const attempt = startGateway(
    {
      edge: edge.url,
      tunnel: TUNNEL,
      token: GATEWAY_TOKEN,
      servers: [],
      executors: [{ name: "main", executor: { ...executorConfig("/srv/m"), isolate: "bwrap" } }],
      drainTimeoutMs: 1_000,
    },
    {
      upstreams: [server],
      executors: [main],
      host: { uid: 0, path: emptyPath },
      log: (event) => events.push(event),
    },
  );
  const error = await attempt.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(GatewayConfigError);
  expect((error as GatewayConfigError).problems).toEqual([
    expect.stringMatching(/^the gateway runs as root, .* --allow-root \(or "allowRoot": true in the config file\)/),
    expect.stringMatching(/^executor "main": "isolate": "bwrap" needs the bwrap command, .*Debian package bubblewrap/),
  ]);
  expect(events).toEqual([]);
  expect(edge.upgrades).toEqual([]);
  expect([main.calls, server.calls]).toEqual([[], []]);
});

function executorConfig(dir: string) {
  return {
    dir,
    shell: "/bin/bash",
    maxSessions: 4,
    env: [...DEFAULT_PASSED_ENV],
    isolate: "none" as const,
    network: "off" as const,
  };
}
