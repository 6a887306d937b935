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
  return droppedWith(headers.get("connection"));
}

/** Drops hop-by-hop headers, those a Connection header lists, and Content-Length (names in lower case). */
function droppedWith(connection: string | null): (name: string) => boolean {
  const listed = new Set(
    (connection ?? "")
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

/**
 * Response headers for the agent, from the gateway's Head, as pairs: a Response takes them as they
 * are, and building a Headers object first would cost a second conversion per call.
 */
export function agentResponseHeaders(list: HeaderList): HeaderList {
  const isDropped = droppedWith(headerValue(list, "connection"));
  return list.filter(([name]) => !isDropped(name.toLowerCase()));
}

/** The first value of a header in a list (`name` in lower case), or null. */
export function headerValue(list: HeaderList, name: string): string | null {
  for (const [key, value] of list) if (key.toLowerCase() === name) return value;
  return null;
}
