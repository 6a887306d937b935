/**
 * Which headers cross the relay. Hop-by-hop headers describe one connection, not the message;
 * Host and Content-Length are recomputed by whoever sends the next hop; cf-* are Cloudflare's; and
 * the edge never forwards its own token. Everything else passes unchanged so any MCP server works.
 */
import type { HeaderList } from "../../src/protocol/messages.ts";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function dropped(headers: Headers): (name: string) => boolean {
  const listed = new Set(
    (headers.get("connection") ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  return (name) => HOP_BY_HOP.has(name) || listed.has(name) || name === "content-length";
}

/**
 * Request headers for the upstream. `tokenInAuthorization` says where the agent put its Tether
 * token: when it came in X-Tether-Token, Authorization belongs to the upstream and passes.
 */
export function upstreamRequestHeaders(headers: Headers, tokenInAuthorization: boolean): HeaderList {
  const isDropped = dropped(headers);
  const list: HeaderList = [];
  for (const [name, value] of headers) {
    if (isDropped(name) || name === "host" || name.startsWith("cf-") || name === "x-tether-token") continue;
    if (name === "authorization" && tokenInAuthorization) continue;
    list.push([name, value]);
  }
  return list;
}

/** Response headers for the agent, from the gateway's Head. */
export function agentResponseHeaders(list: HeaderList): Headers {
  const headers = new Headers();
  for (const [name, value] of list) headers.append(name, value);
  const isDropped = dropped(headers);
  for (const name of [...headers.keys()]) if (isDropped(name)) headers.delete(name);
  return headers;
}
