/**
 * `tether gateway` with executors, as a real process: what the machine cannot give them (bwrap on
 * PATH, a user other than root) and bad executor flags end the command with status 2 and a clear
 * message before anything is started or dialed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { ROOT } from "../helpers/edge.ts";
import { type FakeEdge, startFakeEdge } from "../helpers/fake-edge.ts";
import { GATEWAY_TOKEN } from "../helpers/gateway-harness.ts";
import { NODE, spawnProcess, stopAll } from "../helpers/processes.ts";
import { within } from "../helpers/stdio-fixtures.ts";

const MAIN = `${ROOT}src/cli/main.ts`;
const scratch = mkdtempSync(join(tmpdir(), "tether-executor-cli-"));
/** A PATH with no bwrap on it (the gateway is started by absolute path, so it needs nothing there). */
const NO_BWRAP_PATH = mkdtempSync(join(tmpdir(), "tether-empty-path-"));
const AS_ROOT = process.getuid?.() === 0;

let edge: FakeEdge;
beforeAll(async () => {
  edge = await startFakeEdge();
});
afterEach(() => stopAll());
afterAll(async () => {
  await edge.close();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(NO_BWRAP_PATH, { recursive: true, force: true });
});

async function gateway(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = spawnProcess("tether gateway", NODE, [MAIN, "gateway", "--edge", edge.url, ...args], {
    env: { TETHER_TOKEN: GATEWAY_TOKEN, TETHER_TUNNEL: "", TETHER_EDGE: "", ...env },
  });
  const exit = await within(proc.exited, 30_000, `tether gateway ${args.join(" ")}`);
  return { code: exit.code, output: proc.output() };
}

function configFile(name: string, content: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const BWRAP_MISSING =
  'executor "main": "isolate": "bwrap" needs the bwrap command, which is not on PATH; install the Debian package bubblewrap (apt-get install bubblewrap)';
const ROOT_REFUSAL = "the gateway runs as root, so every command its executors' sandboxes run would run as root";

test("bwrap isolation without bwrap on PATH exits 2 naming the package; as root, without --allow-root, that too", async () => {
  const config = configFile("bwrap.json", { executors: { main: { dir: join(scratch, "main"), isolate: "bwrap" } } });
  const refused = await gateway(["--config", config], { PATH: NO_BWRAP_PATH });
  expect(refused.code).toBe(2);
  expect(refused.output).toContain(BWRAP_MISSING);
  // The root check holds whoever runs the tests: refused as root, silent otherwise.
  expect(refused.output.includes(ROOT_REFUSAL)).toBe(AS_ROOT);
  expect(refused.output).toContain('Run "tether gateway --help" for usage.');
  expect(refused.output).not.toMatch(/ (starting|connecting) /);

  const allowed = await gateway(["--config", config, "--allow-root"], { PATH: NO_BWRAP_PATH });
  expect(allowed.code).toBe(2);
  expect(allowed.output).toContain(BWRAP_MISSING);
  expect(allowed.output).not.toContain(ROOT_REFUSAL);
  expect(edge.upgrades).toEqual([]);
}, 60_000);

test('"allowRoot": true in the file allows root like --allow-root', async () => {
  const config = configFile("allow-root.json", {
    allowRoot: true,
    executors: { main: { dir: join(scratch, "main"), isolate: "bwrap" } },
  });
  const { code, output } = await gateway(["--config", config], { PATH: NO_BWRAP_PATH });
  expect([code, output.includes(ROOT_REFUSAL)]).toEqual([2, false]);
  expect(output).toContain(BWRAP_MISSING);
  expect(edge.upgrades).toEqual([]);
}, 60_000);

test("bad --executor flags and a network setting without isolation are listed together, exit 2", async () => {
  const config = configFile("network.json", { executors: { lab: { dir: join(scratch, "lab"), network: "on" } } });
  const { code, output } = await gateway([
    "--config",
    config,
    "--executor",
    "Main=/srv/m",
    "--executor",
    "nodir",
    "--allow-root",
  ]);
  expect(code).toBe(2);
  expect(output).toContain(`"executors.lab" in ${config}: network: only applies with "isolate": "bwrap"`);
  expect(output).toContain('--executor Main: executor name "Main": executor names are [a-z0-9_-], at most 63');
  expect(output).toContain('--executor "nodir": expected NAME=DIR');
  expect(output).not.toMatch(/ (starting|connecting) /);
  expect(edge.upgrades).toEqual([]);
}, 60_000);

test("the help describes --executor, --allow-root and the file's executors", async () => {
  const proc = spawnProcess("tether gateway --help", NODE, [MAIN, "gateway", "--help"]);
  expect((await within(proc.exited, 30_000, "help")).code).toBe(0);
  const help = proc.output();
  expect(help).toContain("tether gateway --edge URL --token TOKEN --executor NAME=DIR");
  expect(help).toMatch(/--executor NAME=DIR +an executor \(repeatable\)/);
  expect(help).toMatch(/--allow-root +allow executors while the gateway runs as root/);
  expect(help).toContain('"isolate": "bwrap", "network": "off"');
  expect(help).toContain("the Debian package\n  bubblewrap");
}, 60_000);
