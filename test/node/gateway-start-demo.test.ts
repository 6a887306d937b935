/**
 * `npm start` launches its demo gateway with the token in the environment, never on the command
 * line (any user can read a process's command line with `ps`). The launch is run for real, as
 * scripts/start.ts runs it, against a stand-in edge.
 */
import { readFileSync } from "node:fs";
import { afterEach, expect, test } from "vitest";
import { demoGatewayLaunch } from "../../scripts/demo-gateway.ts";
import { encodeJsonFrame, FrameType } from "../../src/protocol/frames.ts";
import { ROOT } from "../helpers/edge.ts";
import { type FakeEdge, startFakeEdge } from "../helpers/fake-edge.ts";
import { GATEWAY_TOKEN, TUNNEL } from "../helpers/gateway-harness.ts";
import { NODE, spawnProcess, stopAll } from "../helpers/processes.ts";

let edge: FakeEdge | undefined;
afterEach(async () => {
  await stopAll();
  await edge?.close();
  edge = undefined;
});

test("the demo gateway gets its token from TETHER_TOKEN: absent from its command line, used to connect", async () => {
  edge = await startFakeEdge();
  const launch = demoGatewayLaunch({
    node: NODE,
    main: `${ROOT}src/cli/main.ts`,
    edge: edge.url,
    tunnel: TUNNEL,
    token: GATEWAY_TOKEN,
    server: "docs=http://127.0.0.1:9/mcp",
  });
  const gateway = spawnProcess("demo gateway", launch.command, launch.args, {
    env: { TETHER_EDGE: "", TETHER_TUNNEL: "", ...launch.env },
  });
  const connection = await edge.nextConnection(20_000);
  expect(connection.headers.authorization).toBe(`Bearer ${GATEWAY_TOKEN}`);
  connection.ws.send(encodeJsonFrame(FrameType.Welcome, 0, { protocol: 1, tunnel: TUNNEL, pingIntervalMs: 20_000 }));
  await gateway.waitFor(/ connected tunnel=corp /);
  // What `ps` shows, and what only the process's owner can read.
  const commandLine = readFileSync(`/proc/${gateway.pid}/cmdline`, "utf8").split("\0");
  expect(commandLine).toContain("gateway");
  expect(commandLine.join(" ")).not.toContain(GATEWAY_TOKEN);
  expect(commandLine).not.toContain("--token");
  expect(readFileSync(`/proc/${gateway.pid}/environ`, "utf8").split("\0")).toContain(`TETHER_TOKEN=${GATEWAY_TOKEN}`);
  expect((await gateway.stop("SIGTERM", 20_000)).code).toBe(0);
}, 60_000);

test("the demo gateway's executor flags: --executor NAME=DIR, and --allow-root only when asked", () => {
  const base = {
    node: NODE,
    main: "main.ts",
    edge: "http://127.0.0.1:8787",
    tunnel: "demo",
    token: "t",
    server: "s=x",
  };
  expect(demoGatewayLaunch(base).args).not.toContain("--executor");
  const asUser = demoGatewayLaunch({ ...base, executor: "main=/tmp/w" }).args;
  expect(asUser.slice(-2)).toEqual(["--executor", "main=/tmp/w"]);
  expect(asUser).not.toContain("--allow-root");
  const asRoot = demoGatewayLaunch({ ...base, executor: "main=/tmp/w", allowRoot: true }).args;
  expect(asRoot.slice(-3)).toEqual(["--executor", "main=/tmp/w", "--allow-root"]);
});

test("scripts/start.ts launches its gateway only through demoGatewayLaunch, with no --token flag", () => {
  const source = readFileSync(`${ROOT}scripts/start.ts`, "utf8");
  expect(source).toContain("demoGatewayLaunch(");
  expect(source).not.toMatch(/["']--token["']/);
});
