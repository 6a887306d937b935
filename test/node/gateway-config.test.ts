import { describe, expect, test } from "vitest";
import { newToken } from "../../src/auth/tokens.ts";
import { connectUrl, splitCommandLine } from "../../src/gateway/config.ts";
import { startGateway } from "../../src/gateway/gateway.ts";
import { GatewayConfigError, type GatewayFlags, loadGatewayConfig } from "../../src/gateway/load-config.ts";

const TOKEN = newToken("gw", "corp");
const base: GatewayFlags = {
  edge: "https://edge.example.com",
  token: TOKEN,
  server: ["docs=http://10.1.2.3:8080/mcp"],
};
const noFile = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
};

function problems(flags: GatewayFlags, env: Record<string, string> = {}, files: Record<string, string> = {}): string[] {
  try {
    loadGatewayConfig(flags, env, (path) => files[path] ?? noFile(path));
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError);
    return (error as GatewayConfigError).problems;
  }
  throw new Error("expected the configuration to be rejected");
}

describe("flags", () => {
  test("HTTP and stdio servers, headers and allowed paths; the tunnel comes from the token", () => {
    const config = loadGatewayConfig(
      {
        ...base,
        server: ["docs=http://10.1.2.3:8080/mcp", `fs=stdio:node "my server.js" --root '/srv/a b' x\\ y`],
        header: ["docs:Authorization=Bearer a=b", "docs:X-Team=core"],
        allowPath: ["docs:/.well-known/oauth-protected-resource", "docs:files/*"],
      },
      {},
      noFile,
    );
    expect(config.tunnel).toBe("corp");
    expect(config.edge).toBe("https://edge.example.com");
    expect(config.drainTimeoutMs).toBe(10_000);
    expect(config.servers).toEqual([
      {
        name: "docs",
        server: {
          kind: "http",
          url: "http://10.1.2.3:8080/mcp",
          headers: { Authorization: "Bearer a=b", "X-Team": "core" },
          allowPaths: ["/.well-known/oauth-protected-resource", "files/*"],
        },
      },
      {
        name: "fs",
        server: expect.objectContaining({
          kind: "stdio",
          command: "node",
          args: ["my server.js", "--root", "/srv/a b", "x y"],
        }),
      },
    ]);
  });

  test("environment variables fill in what flags leave out; flags win", () => {
    const env = { TETHER_EDGE: "http://127.0.0.1:8787", TETHER_TOKEN: TOKEN, TETHER_TUNNEL: "corp" };
    const fromEnv = loadGatewayConfig({ server: ["docs=http://h/mcp"] }, env, noFile);
    expect([fromEnv.edge, fromEnv.tunnel, fromEnv.token]).toEqual(["http://127.0.0.1:8787", "corp", TOKEN]);
    const flagsWin = loadGatewayConfig({ ...base }, env, noFile);
    expect(flagsWin.edge).toBe("https://edge.example.com");
  });

  test("--drain-timeout-ms is read as milliseconds", () => {
    expect(loadGatewayConfig({ ...base, drainTimeoutMs: "250" }, {}, noFile).drainTimeoutMs).toBe(250);
  });
});

describe("config file", () => {
  const fsServer = {
    command: "mcp-server-filesystem",
    args: ["/srv"],
    env: { A: "1" },
    cwd: "/srv",
    idleTimeoutMs: 5000,
    maxChildren: 2,
  };
  const file = JSON.stringify({
    edge: "https://file.example.com",
    tunnel: "corp",
    token: TOKEN,
    drainTimeoutMs: 3000,
    servers: {
      docs: { url: "http://10.0.0.9/mcp", headers: { "X-Key": "k1" }, allowPaths: ["/.well-known/x"] },
      fs: fsServer,
    },
  });

  test("is read, and flags and environment override it", () => {
    const config = loadGatewayConfig(
      { config: "gw.json", server: ["docs=http://10.0.0.10/mcp"], header: ["docs:X-Key=k2"] },
      { TETHER_EDGE: "https://env.example.com" },
      (path) => (path === "gw.json" ? file : noFile(path)),
    );
    expect(config.edge).toBe("https://env.example.com");
    expect(config.drainTimeoutMs).toBe(3000);
    expect(config.servers).toEqual([
      // --server replaced the file's entry; --header applied to it.
      {
        name: "docs",
        server: { kind: "http", url: "http://10.0.0.10/mcp", headers: { "X-Key": "k2" }, allowPaths: [] },
      },
      // Every field the file gives a stdio server is kept.
      { name: "fs", server: { kind: "stdio", ...fsServer } },
    ]);
  });

  test("a missing file, bad JSON, an unknown key or a bad server is named", () => {
    expect(problems({ ...base, config: "nope.json" })).toEqual(["--config nope.json: cannot read it (ENOENT)"]);
    expect(problems({ ...base, config: "bad.json" }, {}, { "bad.json": "{ edge:" })[0]).toMatch(
      /^--config bad\.json: not valid JSON/,
    );
    expect(problems({ ...base, config: "typo.json" }, {}, { "typo.json": '{"sever": {}}' })[0]).toMatch(
      /^--config typo\.json: .*sever/,
    );
    const both = JSON.stringify({ servers: { x: { url: "http://h/mcp", command: "y" } } });
    expect(problems({ ...base, server: [], config: "c.json" }, {}, { "c.json": both })).toEqual([
      '"servers.x" in c.json: needs either "url" (HTTP) or "command" (stdio)',
    ]);
    const badStdio = JSON.stringify({ servers: { x: { command: "y", args: "not-a-list", maxChildren: 0 } } });
    const [problem] = problems({ ...base, server: [], config: "c.json" }, {}, { "c.json": badStdio });
    expect(problem).toMatch(/^"servers\.x" in c\.json: args: .*; maxChildren: /);
  });
});

describe("bad input gets a clear error naming the flag", () => {
  test("missing edge, token, and anything to serve", () => {
    expect(problems({})).toEqual([
      'missing --edge URL (or TETHER_EDGE, or "edge" in the config file)',
      'missing --token (or TETHER_TOKEN, or "token" in the config file): the tunnel\'s gateway token',
      'missing --tunnel NAME (or TETHER_TUNNEL, or "tunnel" in the config file)',
      'nothing to serve: add --server NAME=TARGET or --executor NAME=DIR (or "servers" or "executors" in the config file)',
    ]);
  });

  test("a bad edge URL or tunnel name", () => {
    expect(problems({ ...base, edge: "edge.example.com" })).toEqual([
      '--edge "edge.example.com": must be an http(s) or ws(s) URL, e.g. https://tether.example.com',
    ]);
    expect(problems({ ...base, edge: "ftp://edge" })[0]).toMatch(/^--edge "ftp:\/\/edge": must be/);
    expect(problems({ ...base, tunnel: "Corp!" })[0]).toMatch(/^--tunnel "Corp!": tunnel names are/);
  });

  test("an unencrypted edge on another machine is refused unless --insecure allows it", () => {
    const cleartext =
      "the gateway token would cross the network unencrypted; use https:// (or wss://), or pass --insecure to allow it on a network you trust";
    expect(problems({ ...base, edge: "http://10.1.2.3:8787" })).toEqual([
      `--edge "http://10.1.2.3:8787": ${cleartext}`,
    ]);
    expect(problems({ ...base, edge: "ws://edge.example.com" })).toEqual([
      `--edge "ws://edge.example.com": ${cleartext}`,
    ]);
    expect(problems({ ...base, edge: undefined }, { TETHER_EDGE: "http://127.0.0.1.example.com" })).toEqual([
      `TETHER_EDGE "http://127.0.0.1.example.com": ${cleartext}`,
    ]);
    const file = JSON.stringify({ edge: "http://tether.internal" });
    expect(problems({ ...base, edge: undefined, config: "gw.json" }, {}, { "gw.json": file })).toEqual([
      `"edge" in gw.json "http://tether.internal": ${cleartext}`,
    ]);
    for (const edge of ["http://10.1.2.3:8787", "ws://edge.example.com"]) {
      expect(loadGatewayConfig({ ...base, edge, insecure: true }, {}).insecure).toBe(true);
    }
    const insecureFile = JSON.stringify({ edge: "http://tether.internal", insecure: true });
    expect(loadGatewayConfig({ ...base, edge: undefined, config: "gw.json" }, {}, () => insecureFile).edge).toBe(
      "http://tether.internal",
    );
    // TLS, or this machine, needs nothing.
    for (const edge of [
      "https://edge.example.com",
      "wss://edge.example.com",
      "http://127.0.0.1:8787",
      "ws://127.0.0.5",
      "http://localhost:8787",
      "http://[::1]:8787",
    ]) {
      expect(loadGatewayConfig({ ...base, edge }, {}).insecure, edge).toBe(false);
    }
  });

  test("a gateway started from code refuses the same edge unless its config says insecure", async () => {
    const config = { ...loadGatewayConfig(base, {}), edge: "http://10.1.2.3:8787" };
    const logged: string[] = [];
    await expect(startGateway(config, { upstreams: [], log: (event) => logged.push(event) })).rejects.toThrow(
      /the gateway token would cross the network unencrypted/,
    );
    expect(logged).toEqual([]);
  });

  test("wrong tokens are explained without echoing them", () => {
    const agent = newToken("ag", "corp");
    const other = newToken("gw", "other");
    const all = [
      ...problems({ ...base, token: "secret-value" }),
      ...problems({ ...base, token: agent }),
      ...problems({ ...base, token: other, tunnel: "corp" }),
      ...problems({ ...base, token: undefined }, { TETHER_TOKEN: agent }),
    ];
    expect(all).toEqual([
      "--token: not a Tether token (expected tth.gw.TUNNEL.SECRET)",
      '--token: this is a "ag" token; a gateway needs its tunnel\'s gateway token (tth.gw.…)',
      '--token: the token belongs to tunnel "other", not "corp" (--tunnel)',
      'TETHER_TOKEN: this is a "ag" token; a gateway needs its tunnel\'s gateway token (tth.gw.…)',
    ]);
    for (const line of all) {
      expect(line).not.toContain("secret-value");
      expect(line).not.toContain(agent);
      expect(line).not.toContain(other);
    }
  });

  test("malformed --server, --header and --allow-path", () => {
    expect(problems({ ...base, server: ["docs"] })[0]).toMatch(/^--server "docs": expected NAME=TARGET/);
    expect(problems({ ...base, server: ["Docs!=http://h/mcp"] })[0]).toMatch(/^--server Docs!: server name "Docs!": /);
    expect(problems({ ...base, server: ["docs=10.1.2.3:8080/mcp"] })).toEqual([
      "--server docs: url: must be an http(s) URL, e.g. http://10.1.2.3:8080/mcp",
    ]);
    expect(problems({ ...base, server: ["fs=stdio:"] })).toEqual([
      "--server fs: stdio: needs a command, e.g. stdio:node server.js",
    ]);
    expect(problems({ ...base, server: ["fs=stdio:node 'open"] })).toEqual(["--server fs: unterminated ' quote"]);
    expect(problems({ ...base, header: ["wiki:X=1"] })).toEqual([
      '--header wiki:…: no server named "wiki" (add --server wiki=TARGET)',
    ]);
    expect(problems({ ...base, header: ["docs:X-Key"] })[0]).toMatch(/^--header docs:…: expected NAME:Key=Value/);
    expect(problems({ ...base, header: ["docs:Bad Name=1"] })).toEqual([
      "--server docs: headers.Bad Name: not a valid HTTP header name",
    ]);
    expect(problems({ ...base, server: ["fs=stdio:x"], header: ["fs:A=1"] })).toEqual([
      "--header fs:…: only HTTP servers take headers",
    ]);
    expect(problems({ ...base, allowPath: ["docs:/a/../admin"] })[0]).toMatch(
      /^--server docs: allowPaths\[0\]: must be a path/,
    );
    expect(problems({ ...base, drainTimeoutMs: "soon" })[0]).toMatch(/^--drain-timeout-ms: expected milliseconds/);
  });
});

test("the command line of a stdio target splits like a shell's, without expansion", () => {
  expect(splitCommandLine(`  node  a\\ b "c \\"d\\"" 'e $HOME' "" `)).toEqual(["node", "a b", 'c "d"', "e $HOME", ""]);
  expect(() => splitCommandLine('node "x')).toThrow('unterminated " quote');
});

test("the connect URL maps http(s) to ws(s) and keeps a path prefix", () => {
  expect(connectUrl("https://edge.example.com/", "corp")).toBe("wss://edge.example.com/t/corp/connect");
  expect(connectUrl("http://127.0.0.1:8787", "corp")).toBe("ws://127.0.0.1:8787/t/corp/connect");
  expect(connectUrl("wss://edge.example.com/tether", "corp")).toBe("wss://edge.example.com/tether/t/corp/connect");
});
