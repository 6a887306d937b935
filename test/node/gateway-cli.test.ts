/**
 * The `tether` command as people run it: the TypeScript entry, the bin launcher (also under an
 * older system node) and the one-file bundle, each as a real process.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, beforeAll, expect, onTestFinished, test } from "vitest";
import pkg from "../../package.json" with { type: "json" };
import { encodeJsonFrame, FrameType } from "../../src/protocol/frames.ts";
import { ROOT } from "../helpers/edge.ts";
import { type FakeEdge, startFakeEdge } from "../helpers/fake-edge.ts";
import { GATEWAY_TOKEN, TUNNEL } from "../helpers/gateway-harness.ts";
import { isAlive, NODE, spawnGatewayProcess, spawnProcess, stopAll } from "../helpers/processes.ts";
import { within } from "../helpers/stdio-fixtures.ts";

let edge: FakeEdge | undefined;
afterEach(async () => {
  await stopAll();
  await edge?.close();
  edge = undefined;
});

async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = spawnProcess("tether", command, args, { env });
  const exit = await within(proc.exited, 30_000, `${command} ${args.join(" ")}`);
  return { code: exit.code, output: proc.output() };
}

const MAIN = `${ROOT}src/cli/main.ts`;

beforeAll(async () => {
  // The bundle tests need a fresh build; building once up front keeps each test bounded.
  const build = await run(NODE, [`${ROOT}scripts/build-gateway.ts`]);
  expect(build.code).toBe(0);
}, 60_000);

test("help and usage errors", async () => {
  const help = await run(NODE, [MAIN, "gateway", "--help"]);
  expect(help.code).toBe(0);
  expect(help.output).toContain("tether gateway --edge URL --token TOKEN --server NAME=TARGET");
  const top = await run(NODE, [MAIN, "--help"]);
  expect([top.code, top.output]).toEqual([0, expect.stringMatching(/gateway .*\n {2}tunnel .*\n {2}call /)]);
  expect((await run(NODE, [MAIN, "--version"])).output.trim()).toBe(pkg.version);
  const unknown = await run(NODE, [MAIN, "gatway"]);
  expect([unknown.code, unknown.output]).toEqual([2, expect.stringContaining('unknown command "gatway"')]);
  const badFlag = await run(NODE, [MAIN, "gateway", "--edgy", "x"]);
  expect([badFlag.code, badFlag.output]).toEqual([2, expect.stringContaining("'--edgy'")]);
}, 60_000);

test("bad configuration exits 2 listing every problem, without starting anything", async () => {
  const { code, output } = await run(NODE, [MAIN, "gateway", "--edge", "nowhere", "--server", "docs"], {
    TETHER_TOKEN: "",
  });
  expect(code).toBe(2);
  expect(output).toContain('--edge "nowhere": must be an http(s) or ws(s) URL');
  expect(output).toContain("missing --token");
  expect(output).toContain('--server "docs": expected NAME=TARGET');
  expect(output).toContain('Run "tether gateway --help" for usage.');
  expect(output).not.toMatch(/connecting/);
}, 60_000);

test("an unencrypted remote edge exits 2 before dialing; --insecure lets it start, with a warning", async () => {
  // 192.0.2.1 is TEST-NET-1: documentation only, never this machine.
  const edgeUrl = "http://192.0.2.1:8787";
  const refused = await run(NODE, [MAIN, "gateway", "--edge", edgeUrl, "--server", "docs=http://127.0.0.1:9/mcp"], {
    TETHER_TOKEN: GATEWAY_TOKEN,
  });
  expect(refused.code).toBe(2);
  expect(refused.output).toContain(`--edge "${edgeUrl}": the gateway token would cross the network unencrypted`);
  expect(refused.output).toContain("--insecure");
  expect(refused.output).not.toMatch(/starting|connecting/);
  const allowed = spawnGatewayProcess({
    edge: edgeUrl,
    token: GATEWAY_TOKEN,
    servers: ["docs=http://127.0.0.1:9/mcp"],
    args: ["--insecure"],
  });
  await allowed.waitFor(/ insecure_edge /);
  await allowed.waitFor(/ connecting url=ws:\/\/192\.0\.2\.1:8787\/t\/corp\/connect/);
  expect(allowed.output()).not.toContain("--help");
  // Stopped by its PID; a signal this early may end it before its drain handler is installed.
  await allowed.stop("SIGTERM", 20_000);
  expect(isAlive(allowed.pid)).toBe(false);
}, 60_000);

test("bin/tether.mjs runs the CLI, re-running itself under the project's Node 22 when the system node is older", async () => {
  const systemPath = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((entry) => !entry.includes("node_modules"))
    .join(delimiter);
  const viaSystemNode = await run("node", [`${ROOT}bin/tether.mjs`, "gateway", "--help"], { PATH: systemPath });
  expect([viaSystemNode.code, viaSystemNode.output]).toEqual([0, expect.stringContaining("Usage:")]);
  const viaNode22 = await run(NODE, [`${ROOT}bin/tether.mjs`, "--version"]);
  expect(viaNode22.output.trim()).toBe(pkg.version);
}, 60_000);

for (const bundle of [false, true]) {
  test(`${bundle ? "the bundle" : "the gateway process"} connects, says Hello, and on SIGTERM drains, closes 1000 and exits 0`, async () => {
    edge = await startFakeEdge();
    // The bundle must stand alone: run a copy outside the checkout, away from node_modules.
    const away = bundle ? mkdtempSync(join(tmpdir(), "tether-bundle-")) : undefined;
    if (away) copyFileSync(`${ROOT}dist/tether-gateway.mjs`, join(away, "tether-gateway.mjs"));
    onTestFinished(() => {
      if (away) rmSync(away, { recursive: true, force: true });
    });
    const gateway = spawnGatewayProcess({
      edge: edge.url,
      token: GATEWAY_TOKEN,
      servers: ["docs=http://127.0.0.1:9/mcp", "fs=stdio:node server.js"],
      ...(away ? { entry: join(away, "tether-gateway.mjs"), cwd: away } : {}),
    });
    const connection = await edge.nextConnection(20_000);
    expect(await connection.hello(20_000)).toMatchObject({
      version: pkg.version,
      servers: [
        { name: "docs", kind: "http", allowPaths: [] },
        { name: "fs", kind: "stdio", allowPaths: [] },
      ],
      executors: [],
    });
    connection.ws.send(encodeJsonFrame(FrameType.Welcome, 0, { protocol: 1, tunnel: TUNNEL, pingIntervalMs: 20_000 }));
    await gateway.waitFor(/ connected tunnel=corp /);
    const exit = await gateway.stop("SIGTERM", 20_000);
    expect(exit).toEqual({ code: 0, signal: null });
    await connection.frame((frame) => frame.type === FrameType.GoAway);
    expect((await within(connection.closed, 5_000, "close")).code).toBe(1000);
    expect(gateway.output()).toMatch(/ signal signal=SIGTERM /);
    expect(gateway.output()).not.toContain(GATEWAY_TOKEN);
  }, 60_000);
}
