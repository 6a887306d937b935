/**
 * Builds the Upstream for each configured server: HTTP endpoints through ./http-upstream.ts,
 * stdio commands through the adapter in ./stdio/ (one child per MCP session).
 */
import type { NamedServerConfig } from "./config.ts";
import { HttpUpstream } from "./http-upstream.ts";
import type { Logger } from "./log.ts";
import { StdioUpstream } from "./stdio/stdio-upstream.ts";
import type { Upstream } from "./upstream.ts";

export function createUpstream({ name, server }: NamedServerConfig, log: Logger): Upstream {
  switch (server.kind) {
    case "http":
      return new HttpUpstream({ name, url: server.url, headers: server.headers, allowPaths: server.allowPaths });
    case "stdio":
      return new StdioUpstream({
        name,
        command: server.command,
        args: server.args,
        env: server.env,
        cwd: server.cwd,
        idleTimeoutMs: server.idleTimeoutMs,
        maxChildren: server.maxChildren,
        log: (line) => log("stdio", { server: name, line }),
      });
  }
}
