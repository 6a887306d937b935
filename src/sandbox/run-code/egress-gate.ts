import { WorkerEntrypoint } from "cloudflare:workers";

/**
 * The outbound gate of run_code isolates: the loaded worker's `globalOutbound`, so every fetch()
 * the user's code makes arrives here first. Only http(s) requests to hosts on the sandbox's
 * `network.allow` list go out; anything else is answered with 403 and a marker header, which the
 * isolate's fetch wrapper turns into a thrown error and a line in the run's `networkRefused`.
 *
 * Allow-list entries: an exact host name (`api.example.com`), or `*.suffix` for any subdomain of
 * the suffix at any depth (`*.example.com` matches `a.example.com` and `a.b.example.com`, not
 * `example.com` itself). Matching ignores case, a trailing dot and the port.
 *
 * Redirects are not followed here (`redirect: "manual"`): the isolate's fetch follows them, and
 * each hop comes back through this gate and is checked again.
 *
 * Built per run in the Sandbox Durable Object:
 *   `ctx.exports.EgressGate({ props: { allow } })`
 * (the class is exported from workers/edge.ts so it has a loopback binding).
 */

export interface EgressGateProps {
  allow: string[];
}

/** Response header marking a refusal; its value is the refused URL. */
export const EGRESS_REFUSED_HEADER = "x-tether-egress-refused";
/** Response header marking an allowed request that failed on the network; its value is the reason. */
export const EGRESS_FAILED_HEADER = "x-tether-egress-failed";

export function refusalMessage(url: string): string {
  return `network request to ${url} refused: not in the sandbox's network.allow list`;
}

export function isHostAllowed(hostname: string, allow: readonly string[]): boolean {
  const host = normaliseHost(hostname);
  if (host === "") return false;
  for (const entry of allow) {
    const pattern = normaliseHost(entry);
    if (pattern.startsWith("*.")) {
      const suffix = pattern.slice(1); // ".example.com"
      if (suffix.length > 1 && host.endsWith(suffix) && host.length > suffix.length) return true;
    } else if (pattern !== "" && host === pattern) {
      return true;
    }
  }
  return false;
}

/** Whether a URL may leave the sandbox: http(s) only, host on the list. */
export function isUrlAllowed(url: string, allow: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
  return isHostAllowed(parsed.hostname, allow);
}

function normaliseHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, "").replace(/:\d+$/, "");
}

export class EgressGate extends WorkerEntrypoint<unknown, EgressGateProps> {
  override async fetch(request: Request): Promise<Response> {
    const allow = this.ctx.props?.allow ?? [];
    if (!isUrlAllowed(request.url, allow)) {
      return new Response(refusalMessage(request.url), {
        status: 403,
        headers: { [EGRESS_REFUSED_HEADER]: request.url, "content-type": "text/plain; charset=utf-8" },
      });
    }
    let response: Response;
    try {
      response = await fetch(request, { redirect: "manual" });
    } catch (error) {
      // Answered, not thrown: the isolate's fetch wrapper rethrows it there as a TypeError, the
      // way a failed fetch() behaves, and nothing is logged here as an uncaught exception.
      const cause = error instanceof Error ? error.message : String(error);
      // Header values are bytes: keep the reason printable ASCII.
      const reason = `network request to ${request.url} failed: ${cause}`.replace(/[^\x20-\x7e]/g, "?");
      return new Response(reason, { status: 502, headers: { [EGRESS_FAILED_HEADER]: reason } });
    }
    if (!response.headers.has(EGRESS_REFUSED_HEADER) && !response.headers.has(EGRESS_FAILED_HEADER)) return response;
    // An upstream must not be able to fake a refusal or a failure.
    const headers = new Headers(response.headers);
    headers.delete(EGRESS_REFUSED_HEADER);
    headers.delete(EGRESS_FAILED_HEADER);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}
