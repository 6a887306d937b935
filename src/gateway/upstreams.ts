/**
 * Builds the Upstream for each configured server: HTTP endpoints through ./http-upstream.ts,
 * stdio commands through the adapter in ./stdio/ (one child per MCP session). The stdio adapter
 * (and the MCP SDK under it) is loaded only when a stdio server is configured, which keeps an
 * HTTP-only gateway small.
 */
import type { NamedServerConfig } from "./config.ts";
import { HttpUpstream } from "./http-upstream.ts";
import type { Logger } from "./log.ts";
import type { Upstream } from "./upstream.ts";

export async function createUpstream({ name, server }: NamedServerConfig, log: Logger): Promise<Upstream> {
  switch (server.kind) {
    case "http":
      return new HttpUpstream({ name, url: server.url, headers: server.headers, allowPaths: server.allowPaths });
    case "stdio": {
      const { StdioUpstream } = await import("./stdio/stdio-upstream.ts");
      return new StdioUpstream({
        name,
        command: server.command,
        args: server.args,
        env: server.env,
        cwd: server.cwd,
        idleTimeoutMs: server.idleTimeoutMs,
        maxChildren: server.maxChildren,
        replayMaxEvents: server.replayMaxEvents,
        replayMaxBytes: server.replayMaxBytes,
        log: (line) => log("stdio", { server: name, line }),
      });
    }
  }
}
