/**
 * Who is calling the admin API: the holder of the admin token (bearer header), or, on an edge
 * behind Cloudflare Access, the person its verified JWT names. A bearer token is checked first,
 * so scripts keep working with the admin token when Access is in front; without one, an Access
 * JWT that fails verification is refused with the reason.
 */
import { accessOperator } from "./access-jwt.ts";
import { bearerToken, requireAdmin } from "./bearer.ts";
import type { Operator } from "./operator.ts";

export async function adminOperator(
  headers: Headers,
  env: { TETHER_ADMIN_TOKEN?: string; ACCESS_TEAM_DOMAIN?: string; ACCESS_AUD?: string },
): Promise<Operator> {
  if (bearerToken(headers) === null) {
    const access = await accessOperator(headers, env);
    if (access) return access.operator;
  }
  requireAdmin(headers, env.TETHER_ADMIN_TOKEN);
  return { kind: "admin-token" };
}
