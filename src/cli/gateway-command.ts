/**
 * `tether gateway`: runs a gateway in the foreground until SIGTERM or SIGINT, which drain calls
 * in flight (bounded), stop every stdio child and every executor's sandboxes, and exit 0. Configuration comes from flags, then
 * TETHER_* environment variables, then a JSON file (src/gateway/load-config.ts).
 */
import { parseArgs } from "node:util";
import { type RunningGateway, startGateway } from "../gateway/gateway.ts";
import { GatewayConfigError, loadGatewayConfig } from "../gateway/load-config.ts";
import { describeError, stderrLogger } from "../gateway/log.ts";

export const GATEWAY_USAGE = `Usage:
  tether gateway --edge URL --token TOKEN --server NAME=TARGET [--server NAME=TARGET ...] [options]
  tether gateway --edge URL --token TOKEN --executor NAME=DIR [--server ...] [options]

Connects MCP servers in this network, and executors (sandboxes whose tool calls run on this
machine), to a Tether edge over one outbound WebSocket (no listening port) and relays agents'
calls to them until stopped. SIGTERM or SIGINT drains calls in flight, stops every stdio child
and every sandbox's processes, and exits.

Options:
  --edge URL               the edge, e.g. https://tether.example.com               [TETHER_EDGE]
  --token TOKEN            the tunnel's gateway token (tth.gw.TUNNEL.…)             [TETHER_TOKEN]
  --tunnel NAME            the tunnel; by default the one the token names           [TETHER_TUNNEL]
  --server NAME=TARGET     a server to expose (repeatable); TARGET is either
                             an MCP Streamable HTTP URL   docs=http://10.1.2.3:8080/mcp
                             stdio:COMMAND ARGS...         'fs=stdio:mcp-server-filesystem /srv/data'
                           (quote the whole flag value; the command runs directly, not through a
                           shell, one child per MCP session; quotes inside group words)
  --header NAME:Key=Value  a header added to every request to HTTP server NAME (repeatable);
                           credentials stay inside the network
  --allow-path NAME:PATH   a path below HTTP server NAME's endpoint agents may also reach
                           (repeatable), e.g. docs:/.well-known/oauth-protected-resource;
                           "/files/*" allows everything under /files/
  --executor NAME=DIR      an executor (repeatable): sandboxes whose bash, file and run_code tool
                           calls run on this machine, each in its own workspace under DIR, as
                           the user the gateway runs as; agents reach it as executor:NAME.
                           Settings beyond DIR (shell, isolation, ...) go in the config file;
                           this flag changes only the directory of a file's entry of that name
  --allow-root             allow executors while the gateway runs as root (their sandboxes'
                           commands then run as root); without it, root with executors is refused
  --config FILE            JSON configuration; flags and environment variables override it
  --drain-timeout-ms MS    how long stopping waits for calls in flight (default 10000)
  --insecure               allow an edge on another machine over plain http:// or ws:// (the
                           gateway token then crosses the network unencrypted); without it
                           such an edge is refused, only this machine (localhost) may skip TLS
  -h, --help               show this help

Config file:
  { "edge": "https://tether.example.com", "tunnel": "corp", "token": "tth.gw.corp.…",
    "drainTimeoutMs": 10000, "insecure": false, "allowRoot": false,
    "servers": {
      "docs": { "url": "http://10.1.2.3:8080/mcp", "headers": { "Authorization": "Bearer …" },
                "allowPaths": ["/.well-known/oauth-protected-resource"] },
      "fs":   { "command": "mcp-server-filesystem", "args": ["/srv/data"], "env": { "K": "V" },
                "cwd": "/srv", "idleTimeoutMs": 600000, "maxChildren": 32,
                "replayMaxEvents": 1000, "replayMaxBytes": 4194304 } },
    "executors": {
      "main": { "dir": "/var/lib/tether/main", "shell": "/bin/bash", "maxSessions": 16,
                "env": ["HOME", "PATH", "LANG", "TERM"],
                "isolate": "bwrap", "network": "off" } } }
  An executor's "env" names the gateway's variables its sandboxes see (values stay here).
  "isolate": "none" (default) runs sandboxes' processes directly as the gateway's user;
  "bwrap" runs each sandbox in bubblewrap namespaces (needs bwrap on PATH: the Debian package
  bubblewrap), where "network": "off" (default) or "on" applies; without bwrap it is refused.

Logs go to stderr, one line per event.`;

export async function gatewayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      edge: { type: "string" },
      tunnel: { type: "string" },
      token: { type: "string" },
      server: { type: "string", multiple: true },
      header: { type: "string", multiple: true },
      "allow-path": { type: "string", multiple: true },
      executor: { type: "string", multiple: true },
      "allow-root": { type: "boolean" },
      config: { type: "string" },
      "drain-timeout-ms": { type: "string" },
      insecure: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(GATEWAY_USAGE);
    return 0;
  }
  let config: ReturnType<typeof loadGatewayConfig>;
  try {
    config = loadGatewayConfig({
      edge: values.edge,
      tunnel: values.tunnel,
      token: values.token,
      config: values.config,
      server: values.server,
      header: values.header,
      allowPath: values["allow-path"],
      drainTimeoutMs: values["drain-timeout-ms"],
      insecure: values.insecure,
      executor: values.executor,
      allowRoot: values["allow-root"],
    });
  } catch (error) {
    return usageFailure(error);
  }

  const log = stderrLogger;
  let gateway: RunningGateway;
  try {
    // Starting checks what the configuration needs of this machine (root, bwrap).
    gateway = await startGateway(config, { log });
  } catch (error) {
    return usageFailure(error);
  }
  return new Promise<number>((resolve) => {
    // The drain is bounded, so a second signal needs no "force" mode (a terminal's Ctrl-C may
    // also reach us twice through a launcher that forwards it).
    const onSignal = (signal: NodeJS.Signals) => {
      log("signal", { signal, inFlight: gateway.client.inFlight });
      void gateway.stop().then(
        () => resolve(0),
        (error: unknown) => {
          log("stop_failed", { error: describeError(error) });
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    process.on("SIGHUP", onSignal);
  });
}

/** A configuration problem ends the command with status 2 and the problem; anything else is thrown on. */
function usageFailure(error: unknown): number {
  if (!(error instanceof GatewayConfigError)) throw error;
  console.error(`tether gateway: ${error.message}\nRun "tether gateway --help" for usage.`);
  return 2;
}
