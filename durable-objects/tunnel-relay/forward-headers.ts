/**
 * Which headers cross the relay. Hop-by-hop headers describe one connection, not the message;
 * Host and Content-Length are recomputed by whoever sends the next hop; cf-* are Cloudflare's; the
 * edge never forwards a Tether token; and cookies stay off the relay both ways, because every
 * tunnel shares the edge's origin (an upstream's Set-Cookie would reach other tunnels' browser
 * clients, and a cookie set on the edge's origin, such as an access proxy's, is not an upstream's
 * to read). Everything else passes unchanged so any MCP server works.
 */
import type { TokenHeader } from "../../src/auth/bearer.ts";
import { hopByHop } from "../../src/http/hop-by-hop.ts";
import type { HeaderList } from "../../src/protocol/messages.ts";

/** Drops hop-by-hop headers, those a Connection header lists, and Content-Length (names in lower case). */
function droppedWith(connection: string | null): (name: string) => boolean {
  const isHopByHop = hopByHop(connection);
  return (name) => isHopByHop(name) || name === "content-length";
}

/** A Tether token of any kind anywhere in a header value (`tth.ag.…`, `tth.gw.…`, ...). */
const TETHER_TOKEN = /tth\.(?:gw|ag|sb|api)\./;

/**
 * Request headers for the upstream. `tokenFrom` says where the agent put its Tether token: only
 * when it came in X-Tether-Token does Authorization belong to the upstream, and even then not if
 * it carries a Tether token (an agent that sent its token in both).
 */
export function upstreamRequestHeaders(headers: Headers, tokenFrom: TokenHeader): HeaderList {
  const isDropped = droppedWith(headers.get("connection"));
  const list: HeaderList = [];
  for (const [name, value] of headers) {
    if (isDropped(name) || name === "host" || name.startsWith("cf-") || name === "x-tether-token") continue;
    if (name === "cookie") continue;
    if (name === "authorization" && (tokenFrom === "authorization" || TETHER_TOKEN.test(value))) continue;
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
  return list.filter(([name]) => {
    const lower = name.toLowerCase();
    return !isDropped(lower) && lower !== "set-cookie";
  });
}

/** The first value of a header in a list (`name` in lower case), or null. */
export function headerValue(list: HeaderList, name: string): string | null {
  for (const [key, value] of list) if (key.toLowerCase() === name) return value;
  return null;
}
