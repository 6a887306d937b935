/**
 * What must not cross a proxy hop, shared by the edge (requests to the gateway, responses to the
 * agent) and the gateway (responses from upstreams), so both ends drop the same headers and treat
 * the same statuses as bodiless.
 */

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1, plus the
 * non-standard Keep-Alive and Proxy-Connection that clients still send).
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
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

/**
 * A test for lower-case header names that stop at this hop: the hop-by-hop headers and every
 * header the message's own Connection header lists (a sender marks private headers that way).
 */
export function hopByHop(connection: string | null): (name: string) => boolean {
  const listed = new Set(
    (connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  return (name) => HOP_BY_HOP_HEADERS.has(name) || listed.has(name);
}

/** Statuses whose responses never have a body (the Fetch standard's null body statuses). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

export function isNullBodyStatus(status: number): boolean {
  return NULL_BODY_STATUSES.has(status);
}
