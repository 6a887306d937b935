/**
 * Executors in the gateway's configuration: `--executor NAME=DIR`, `--allow-root`, the config
 * file's `executors` and `allowRoot`, and the checks of this machine made before anything starts
 * (root, bwrap on PATH). Every bad input names the executor and where it came from.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { newToken } from "../../src/auth/tokens.ts";
import { DEFAULT_PASSED_ENV, type ExecutorConfig } from "../../src/gateway/executor/executor-config.ts";
import { executorHostProblems } from "../../src/gateway/executors.ts";
import { GatewayConfigError, type GatewayFlags, loadGatewayConfig } from "../../src/gateway/load-config.ts";

const TOKEN = newToken("gw", "corp");
const base: GatewayFlags = { edge: "https://edge.example.com", token: TOKEN };
const defaults: Omit<ExecutorConfig, "dir"> = {
  shell: "/bin/bash",
  maxSessions: 16,
  env: [...DEFAULT_PASSED_ENV],
  isolate: "none",
  network: "off",
};

const fileReader = (files: Record<string, string>) => (path: string) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
  return text;
};
const load = (flags: GatewayFlags, files: Record<string, string> = {}) =>
  loadGatewayConfig(flags, {}, fileReader(files));

function problems(flags: GatewayFlags, files: Record<string, string> = {}): string[] {
  try {
    load(flags, files);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError);
    return (error as GatewayConfigError).problems;
  }
  throw new Error("expected the configuration to be rejected");
}

/** Problems of a config file holding just these executors. */
const fileProblems = (executors: Record<string, unknown>) =>
  problems({ ...base, config: "gw.json" }, { "gw.json": JSON.stringify({ executors }) });

describe("flags", () => {
  test("--executor NAME=DIR alone is enough to serve; DIR is made absolute, everything else is the safe default", () => {
    const config = load({ ...base, executor: ["main=/srv/tether/main", "scratch=work/scratch"] });
    expect(config.servers).toEqual([]);
    expect(config.executors).toEqual([
      { name: "main", executor: { dir: "/srv/tether/main", ...defaults } },
      { name: "scratch", executor: { dir: resolve("work/scratch"), ...defaults } },
    ]);
    expect(config.allowRoot).toBe(false);
    expect(load({ ...base, executor: ["main=/srv/m"], allowRoot: true }).allowRoot).toBe(true);
  });

  test("servers and executors together; an executor may share a server's name (it is reached as executor:NAME)", () => {
    const config = load({ ...base, server: ["main=http://10.1.2.3/mcp"], executor: ["main=/srv/m"] });
    expect(config.servers.map(({ name }) => name)).toEqual(["main"]);
    expect(config.executors?.map(({ name }) => name)).toEqual(["main"]);
  });

  test("malformed --executor values, bad names, a name given twice", () => {
    expect(problems({ ...base, executor: ["main"] })).toEqual([
      '--executor "main": expected NAME=DIR, e.g. main=/var/lib/tether/main',
    ]);
    expect(problems({ ...base, executor: ["=/srv/m"] })[0]).toMatch(/^--executor "=\/srv\/m": expected NAME=DIR/);
    expect(problems({ ...base, executor: ["main="] })[0]).toMatch(/^--executor "main=": expected NAME=DIR/);
    expect(problems({ ...base, executor: ["Main!=/srv/m"] })).toEqual([
      '--executor Main!: executor name "Main!": executor names are [a-z0-9_-], at most 63',
    ]);
    expect(problems({ ...base, executor: ["main=/srv/a", "main=/srv/b"] })).toEqual([
      "--executor main: given twice; each executor needs a name of its own",
    ]);
  });

  test("two executors in one directory are refused (their workspaces would mix)", () => {
    expect(problems({ ...base, executor: ["a=/srv/x", "b=/srv/x/"] })).toEqual([
      '--executor b: directory /srv/x is also executor "a"\'s; each executor needs its own',
    ]);
  });

  test("more executors than Hello can announce are refused", () => {
    const many = Array.from({ length: 65 }, (_, i) => `e${i}=/srv/e${i}`);
    expect(problems({ ...base, executor: many })).toEqual(["65 executors: a gateway runs at most 64"]);
    expect(load({ ...base, executor: many.slice(0, 64) }).executors).toHaveLength(64);
  });
});

describe("config file", () => {
  const main = {
    dir: "/srv/main",
    shell: "/bin/sh",
    maxSessions: 4,
    env: ["PATH", "CI_TOKEN"],
    isolate: "bwrap",
    network: "on",
  };

  test("every field is kept; --executor changes only the directory and keeps the file's isolation", () => {
    const file = JSON.stringify({ allowRoot: true, executors: { main, lite: { dir: "/srv/lite" } } });
    const fromFile = load({ ...base, config: "gw.json" }, { "gw.json": file });
    expect(fromFile.allowRoot).toBe(true);
    expect(fromFile.executors).toEqual([
      { name: "main", executor: main },
      { name: "lite", executor: { dir: "/srv/lite", ...defaults } },
    ]);
    const overridden = load({ ...base, config: "gw.json", executor: ["main=/data/main"] }, { "gw.json": file });
    expect(overridden.executors?.[0]).toEqual({ name: "main", executor: { ...main, dir: "/data/main" } });
  });

  test("executors only, no servers, is a valid file", () => {
    const file = JSON.stringify({ executors: { main: { dir: "/srv/m" } } });
    expect(load({ ...base, config: "gw.json" }, { "gw.json": file }).executors).toHaveLength(1);
  });

  test("each bad executor is named with what is wrong", () => {
    expect(fileProblems({ x: { dir: "/srv/x", isolate: "docker" } })).toEqual([
      expect.stringMatching(/^"executors\.x" in gw\.json: isolate: .*"none".*"bwrap"/),
    ]);
    expect(fileProblems({ x: { dir: "/srv/x", maxSessions: 0, env: ["OK", "NOT-A-NAME"] } })).toEqual([
      expect.stringMatching(
        /^"executors\.x" in gw\.json: maxSessions: .*; env\[1\]: must be an environment variable name$/,
      ),
    ]);
    expect(fileProblems({ x: { shell: "/bin/sh" } })).toEqual(['"executors.x" in gw.json: dir: required']);
    expect(fileProblems({ x: { dir: "/srv/x", cpus: 2 } })[0]).toMatch(/^"executors\.x" in gw\.json: .*cpus/);
    expect(fileProblems({ "X y": { dir: "/srv/x" } })).toEqual([
      '"executors.X y" in gw.json: executor name "X y": executor names are [a-z0-9_-], at most 63',
    ]);
    // Only the bad one is reported; the good one is not.
    expect(fileProblems({ good: { dir: "/srv/g" }, bad: { dir: "" } })).toEqual([
      expect.stringMatching(/^"executors\.bad" in gw\.json: dir: /),
    ]);
    expect(fileProblems({ x: "/srv/x" })[0]).toMatch(/^--config gw\.json: executors\.x: /);
    expect(problems({ ...base, config: "gw.json" }, { "gw.json": '{"allowRoot": "yes"}' })[0]).toMatch(
      /^--config gw\.json: allowRoot: /,
    );
  });

  test("network without isolation is refused: it would change nothing", () => {
    for (const network of ["off", "on"]) {
      expect(fileProblems({ x: { dir: "/srv/x", network } })).toEqual([
        `"executors.x" in gw.json: network: only applies with "isolate": "bwrap"; without isolation sandboxes use this machine's network as the gateway does`,
      ]);
      expect(fileProblems({ x: { dir: "/srv/x", isolate: "none", network } })).toHaveLength(1);
    }
    expect(load({ ...base, config: "c.json" }, { "c.json": JSON.stringify({ executors: { x: main } }) })).toBeTruthy();
  });
});

describe("this machine", () => {
  const scratch = mkdtempSync(join(tmpdir(), "tether-host-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  /** A directory holding `bwrap` as given: an executable, a plain file, a directory, or nothing. */
  const pathDir = (name: string, bwrap?: "executable" | "plain" | "directory") => {
    const path = join(scratch, name);
    mkdirSync(path);
    if (bwrap === "directory") mkdirSync(join(path, "bwrap"));
    else if (bwrap) writeFileSync(join(path, "bwrap"), "#!/bin/sh\n", { mode: bwrap === "executable" ? 0o755 : 0o644 });
    return path;
  };
  const none = [{ name: "main", executor: { dir: "/srv/m", ...defaults, isolate: "none" as const } }];
  const bwrap = [
    { name: "main", executor: { dir: "/srv/m", ...defaults, isolate: "bwrap" as const } },
    { name: "ci", executor: { dir: "/srv/ci", ...defaults, isolate: "bwrap" as const } },
  ];
  const ROOT_REFUSAL =
    'the gateway runs as root, so every command its executors\' sandboxes run would run as root: run it as an unprivileged user, or pass --allow-root (or "allowRoot": true in the config file) to accept that';
  const BWRAP_MISSING =
    'executor "main", "ci": "isolate": "bwrap" needs the bwrap command, which is not on PATH; install the Debian package bubblewrap (apt-get install bubblewrap)';

  test("root with executors is refused unless allowed; without executors the check does not apply", () => {
    expect(executorHostProblems(none, false, { uid: 0, path: "" })).toEqual([ROOT_REFUSAL]);
    expect(executorHostProblems(none, true, { uid: 0, path: "" })).toEqual([]);
    expect(executorHostProblems(none, false, { uid: 1000, path: "" })).toEqual([]);
    expect(executorHostProblems([], false, { uid: 0, path: "" })).toEqual([]);
  });

  test("bwrap isolation needs an executable bwrap on PATH, and says which package has it", () => {
    const empty = pathDir("empty");
    const plain = pathDir("plain", "plain");
    const directory = pathDir("directory", "directory");
    const real = pathDir("real", "executable");
    const host = (...dirs: string[]) => ({ uid: 1000, path: dirs.join(delimiter) });
    for (const missing of [host(), host(empty), host(empty, "", plain, directory)]) {
      expect(executorHostProblems(bwrap, false, missing), missing.path).toEqual([BWRAP_MISSING]);
    }
    expect(executorHostProblems(bwrap, false, host(empty, plain, real))).toEqual([]);
    expect(executorHostProblems(none, false, host(empty))).toEqual([]);
    // Both problems at once, as root.
    expect(executorHostProblems(bwrap, false, { uid: 0, path: empty })).toEqual([ROOT_REFUSAL, BWRAP_MISSING]);
  });
});
