/**
 * Every combination of the two headers an agent's Tether token may come in (X-Tether-Token, then
 * Authorization), each absent, empty, valid or not, with what the edge must do: accept or refuse
 * (401), and which Authorization the upstream then receives. Shared by the workerd test (what the
 * gateway is handed) and the end-to-end test (what a real upstream receives).
 */
export type HeaderValue = "absent" | "empty" | "valid" | "forged" | "upstream";

export interface TokenHeaderCase {
  name: string;
  /** Request headers to set (absent ones are left out). */
  headers: Record<string, string>;
  /** True when the edge relays the call; false when it answers 401. */
  accepted: boolean;
  /** The Authorization header the upstream receives, or undefined for none. */
  upstreamAuthorization: string | undefined;
}

/** The cases for a tunnel's valid agent token; `forged` is the same shape with a wrong secret. */
export function tokenHeaderCases(tunnel: string, agentToken: string): TokenHeaderCase[] {
  const forged = `tth.ag.${tunnel}.${"F".repeat(32)}`;
  const own: Record<HeaderValue, string | null> = {
    absent: null,
    empty: "",
    valid: agentToken,
    forged,
    upstream: "upstream-secret",
  };
  const authorization: Record<HeaderValue, string | null> = {
    absent: null,
    empty: "",
    valid: `Bearer ${agentToken}`,
    forged: `Bearer ${forged}`,
    upstream: "Bearer upstream-secret",
  };
  const cases: TokenHeaderCase[] = [];
  for (const x of ["absent", "empty", "valid", "forged"] as const) {
    for (const a of ["absent", "empty", "valid", "forged", "upstream"] as const) {
      const headers: Record<string, string> = {};
      if (own[x] !== null) headers["x-tether-token"] = own[x];
      if (authorization[a] !== null) headers.authorization = authorization[a];
      // The token is X-Tether-Token's when it has one (a blank one counts as absent), else Authorization's.
      const tokenInOwnHeader = x === "valid" || x === "forged";
      cases.push({
        name: `x-tether-token ${x}, authorization ${a}`,
        headers,
        accepted: tokenInOwnHeader ? x === "valid" : a === "valid",
        // Only the upstream's own credential passes, and only when the token came in X-Tether-Token;
        // an empty Authorization does not survive the hop.
        upstreamAuthorization: tokenInOwnHeader && a === "upstream" ? "Bearer upstream-secret" : undefined,
      });
    }
  }
  return cases;
}
