import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { createRunCode } from "../../src/gateway/executor/process/run-code.ts";
import { openShell, type ShellSession } from "../../src/gateway/executor/process/shell-session.ts";
import { type ExecutorDir, executorDir } from "../helpers/executor-processes.ts";

// isolate "bwrap": each sandbox sees the system read-only, its own workspace at /workspace, its
// own /tmp, /proc and /dev, no other sandbox's files, and (network "off") no network at all.

let dirs: ExecutorDir[] = [];
let shells: ShellSession[] = [];
let servers: Server[] = [];

afterEach(async () => {
  await Promise.all(shells.map((shell) => shell.close()));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  for (const dir of dirs) dir.remove();
  dirs = [];
  shells = [];
  servers = [];
});

function twoSandboxes(network: "off" | "on" = "off") {
  const dir = executorDir({ isolate: "bwrap", network });
  dirs.push(dir);
  const a = dir.workspace("a");
  const b = dir.workspace("b");
  writeFileSync(join(b, "secret.txt"), "b's secret\n");
  const shellA = openShell({ workspace: a, config: dir.config, sandboxEnv: {} });
  shells.push(shellA);
  return { dir, a, b, shellA, runCodeA: createRunCode({ workspace: a, config: dir.config, sandboxEnv: {} }) };
}

async function listening(): Promise<number> {
  const server = createServer((socket) => socket.end("hello from the host\n"));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("executor isolation (bwrap)", () => {
  test("a sandbox sees its workspace at /workspace and cannot read another sandbox's", async () => {
    const { dir, a, b, shellA } = twoSandboxes();
    const own = await shellA.run({ command: "pwd; echo mine > mine.txt; echo $HOME" });
    expect(own.stdout).toBe("/workspace\n/workspace\n");
    expect(readFileSync(join(a, "mine.txt"), "utf8")).toBe("mine\n");
    const other = await shellA.run({ command: `cat ${join(b, "secret.txt")}; ls -A ${dir.dir} | wc -l` });
    expect(other.stdout).toBe("0\n");
    expect(other.stderr).toMatch(/No such file or directory/);
  });

  test("it cannot write outside its workspace; its /tmp is its own", async () => {
    const { dir, b, shellA } = twoSandboxes();
    const result = await shellA.run({
      command: `for f in /etc/tether-x /usr/tether-x /tether-x ${join(b, "x")}; do echo hi > "$f" 2>/dev/null && echo "wrote $f"; done; echo t > /tmp/tether-private-${process.pid}; cat /tmp/tether-private-${process.pid}`,
    });
    expect(result.stdout).toBe("t\n");
    expect(existsSync(join(b, "x"))).toBe(false);
    for (const path of ["/etc/tether-x", "/usr/tether-x", "/tether-x", `/tmp/tether-private-${process.pid}`]) {
      expect(existsSync(path), path).toBe(false);
    }
    expect(existsSync(dir.dir)).toBe(true);
  });

  test("it has its own PID namespace: the gateway's processes are invisible", async () => {
    const { shellA } = twoSandboxes();
    const result = await shellA.run({
      command: `kill -0 ${process.pid} 2>/dev/null && echo visible || echo invisible`,
    });
    expect(result.stdout).toBe("invisible\n");
  });

  test("network off: a server on the host's 127.0.0.1 is unreachable, from bash and from run_code", async () => {
    const port = await listening();
    const { shellA, runCodeA } = twoSandboxes("off");
    const bash = await shellA.run({ command: `exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3` });
    expect(bash.exitCode).not.toBe(0);
    expect(bash.stdout).toBe("");
    const code = await runCodeA({
      code: `const net = require("node:net");
        return await new Promise((resolve) => net.connect(${port}, "127.0.0.1").on("data", (d) => resolve(String(d))).on("error", (e) => resolve(e.code)));`,
      language: "javascript",
    });
    expect(code.result).toMatch(/^E[A-Z]+$/);
  });

  test('network "on": the same server answers', async () => {
    const port = await listening();
    const { shellA } = twoSandboxes("on");
    const bash = await shellA.run({ command: `exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3` });
    expect(bash.stdout).toBe("hello from the host\n");
  });

  test("run_code reaches only its own workspace", async () => {
    const { b, runCodeA } = twoSandboxes();
    const own = await runCodeA({
      code: "await files.writeFile('k.txt', 'v'); return files.readFile('/workspace/k.txt')",
      language: "javascript",
    });
    expect(own.result).toBe("v");
    const other = await runCodeA({
      code: `require("node:fs").readFileSync(${JSON.stringify(join(b, "secret.txt"))}, "utf8")`,
      language: "javascript",
    });
    expect(other.error).toMatch(/ERR_ACCESS_DENIED|restricted|no such file/i);
    const outside = await runCodeA({ code: "await files.readFile('/etc/passwd')", language: "javascript" });
    expect(outside.error).toMatch(/outside \/workspace/);
  });
});
