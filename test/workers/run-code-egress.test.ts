import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, test } from "vitest";
import {
  EGRESS_REFUSED_HEADER,
  isHostAllowed,
  isUrlAllowed,
  refusalMessage,
} from "../../src/sandbox/run-code/egress-gate.ts";
import type { SandboxFiles } from "../../src/sandbox/run-code/files.ts";
import { type RunCodeOptions, runCode } from "../../src/sandbox/run-code/run-code.ts";

const noFiles: SandboxFiles = {
  readFile: () => Promise.reject(new Error("no files in this test")),
  writeFile: () => Promise.reject(new Error("no files in this test")),
};

function run(code: string, allowHosts: string[]) {
  const options: RunCodeOptions = { files: noFiles, allowHosts };
  if (allowHosts.length > 0) options.egress = exports.EgressGate({ props: { allow: allowHosts } });
  return runCode(env.LOADER, { code, language: "javascript", timeout_ms: 5_000 }, options);
}

// The gate is an export of the edge Worker: the first use loads the whole main module, which can
// take longer than a test's default 5 s on a busy machine.
beforeAll(async () => {
  await exports.EgressGate({ props: { allow: [] } }).fetch("https://warm.test/");
}, 60_000);

describe("the allow list decision", () => {
  test("exact hosts match exactly, ignoring case, a trailing dot and the port", () => {
    expect(isHostAllowed("api.example.com", ["api.example.com"])).toBe(true);
    expect(isHostAllowed("API.Example.com.", ["api.example.com"])).toBe(true);
    expect(isHostAllowed("example.com", ["api.example.com"])).toBe(false);
    expect(isHostAllowed("api.example.com.evil.test", ["api.example.com"])).toBe(false);
    expect(isHostAllowed("evilapi.example.com", ["api.example.com"])).toBe(false);
    expect(isUrlAllowed("https://api.example.com:8443/x", ["api.example.com"])).toBe(true);
  });

  test("*.suffix matches subdomains at any depth, not the bare suffix", () => {
    const allow = ["*.example.com"];
    expect(isHostAllowed("a.example.com", allow)).toBe(true);
    expect(isHostAllowed("a.b.example.com", allow)).toBe(true);
    expect(isHostAllowed("example.com", allow)).toBe(false);
    expect(isHostAllowed("badexample.com", allow)).toBe(false);
    expect(isHostAllowed("example.com.evil.test", allow)).toBe(false);
  });

  test("an empty list, blank entries and non-http schemes allow nothing", () => {
    expect(isHostAllowed("example.com", [])).toBe(false);
    expect(isHostAllowed("example.com", ["", "*.", "*"])).toBe(false);
    expect(isUrlAllowed("ftp://example.com/x", ["example.com"])).toBe(false);
    expect(isUrlAllowed("not a url", ["example.com"])).toBe(false);
  });

  test("the gate answers a refusal itself, naming the URL", async () => {
    const gate = exports.EgressGate({ props: { allow: ["*.allowed.test"] } });
    const response = await gate.fetch("https://blocked.test/secret?q=1");
    expect(response.status).toBe(403);
    expect(response.headers.get(EGRESS_REFUSED_HEADER)).toBe("https://blocked.test/secret?q=1");
    expect(await response.text()).toBe(refusalMessage("https://blocked.test/secret?q=1"));
  });
});

describe("run_code network access", () => {
  test("with no allow list, fetch is refused, reported in networkRefused and in the error", async () => {
    const result = await run(`await fetch("https://example.com/data")`, []);
    expect(result.networkRefused).toEqual(["https://example.com/data"]);
    expect(result.error).toBe(
      "TypeError: network request to https://example.com/data refused: not in the sandbox's network.allow list (line 1)",
    );
    expect(result.timedOut).toBe(false);
  });

  test("a refusal the code catches is still reported", async () => {
    const code = `for (const u of ["https://a.test/1", "https://b.test/2"]) {
      try { await fetch(u); } catch (e) { console.log(e.message); }
    }
    "went on"`;
    const result = await run(code, []);
    expect(result.result).toBe("went on");
    expect(result.networkRefused).toEqual(["https://a.test/1", "https://b.test/2"]);
    expect(result.stdout).toBe(`${refusalMessage("https://a.test/1")}\n${refusalMessage("https://b.test/2")}\n`);
  });

  test("with an allow list, a host not on it is refused by the gate and reported", async () => {
    const result = await run(`const r = await fetch("https://blocked.test/x"); return r.status;`, ["*.allowed.test"]);
    expect(result.networkRefused).toEqual(["https://blocked.test/x"]);
    expect(result.error).toMatch(/^TypeError: network request to https:\/\/blocked\.test\/x refused/);
  });

  test("with an allow list, an allowed host gets past the gate (here to a closed port)", async () => {
    // No server can listen inside these tests: the gate forwarding the request and reporting the
    // network's failure (rather than refusing it) shows the allow list let it through.
    const result = await run(`await fetch("http://127.0.0.1:9/")`, ["127.0.0.1"]);
    expect(result.networkRefused).toEqual([]);
    expect(result.error).toMatch(/^TypeError: network request to http:\/\/127\.0\.0\.1:9\/ failed: /);
  });

  test("an allow list without the gate is a programming error, not a silent no-network run", async () => {
    await expect(
      runCode(env.LOADER, { code: "1", language: "javascript" }, { files: noFiles, allowHosts: ["example.com"] }),
    ).rejects.toThrow(/needs the egress gate/);
  });
});
