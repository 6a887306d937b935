/**
 * The signing keys of a Cloudflare Access team (`<team domain>/cdn-cgi/access/certs`), cached in
 * the isolate: reused for up to JWKS_TTL_MS, fetched again on a key id the cache does not know
 * (Access rotates its keys and publishes the new one first). Concurrent misses share one fetch.
 */
import { z } from "zod";
import { TetherError } from "../errors/tether-error.ts";
import { readBoundedBody } from "../http/read-bounded-body.ts";

export const JWKS_TTL_MS = 10 * 60 * 1000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_JWKS_BYTES = 64 * 1024;

const JwkSchema = z.looseObject({
  kid: z.string().min(1).max(200),
  kty: z.string(),
  alg: z.string().optional(),
  use: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
});
const JwksSchema = z.looseObject({ keys: z.array(z.unknown()).max(100) });

interface KeySet {
  keys: Map<string, CryptoKey>;
  fetchedAt: number;
}

const cache = new Map<string, KeySet>();
const inFlight = new Map<string, Promise<KeySet>>();

/** The RS256 verification key `kid` of the key set at `certsUrl`, or null when the team has no such key. */
export async function accessSigningKey(certsUrl: string, kid: string, now = Date.now()): Promise<CryptoKey | null> {
  const cached = cache.get(certsUrl);
  if (cached && now - cached.fetchedAt < JWKS_TTL_MS) {
    const key = cached.keys.get(kid);
    if (key) return key;
  }
  const fresh = await refetch(certsUrl);
  return fresh.keys.get(kid) ?? null;
}

function refetch(certsUrl: string): Promise<KeySet> {
  let pending = inFlight.get(certsUrl);
  if (!pending) {
    pending = fetchKeySet(certsUrl).finally(() => inFlight.delete(certsUrl));
    inFlight.set(certsUrl, pending);
  }
  return pending;
}

async function fetchKeySet(certsUrl: string): Promise<KeySet> {
  const unavailable = (why: string, cause?: unknown) =>
    new TetherError("upstream_unavailable", `could not load the Access signing keys from ${certsUrl}: ${why}`, {
      cause,
    });
  let response: Response;
  try {
    response = await fetch(certsUrl, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "manual" });
  } catch (error) {
    throw unavailable(error instanceof Error ? error.message : "fetch failed", error);
  }
  // A redirect (not followed: the key set must come from the team itself) counts as a failure.
  if (!response.ok) {
    await response.body?.cancel();
    throw unavailable(`HTTP ${response.status}`);
  }
  let body: unknown;
  try {
    const bytes = await readBoundedBody(response, MAX_JWKS_BYTES, "the key set");
    body = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array()));
  } catch (error) {
    if (error instanceof TetherError) throw unavailable("the key set is too large");
    throw unavailable(error instanceof SyntaxError ? "the answer is not JSON" : String(error), error);
  }
  const parsed = JwksSchema.safeParse(body);
  if (!parsed.success) throw unavailable("the answer is not a JSON Web Key Set");
  const keys = new Map<string, CryptoKey>();
  for (const entry of parsed.data.keys) {
    const jwk = JwkSchema.safeParse(entry);
    // Only RSA signing keys: Access signs with RS256; anything else in the set is ignored.
    if (!jwk.success || jwk.data.kty !== "RSA" || !jwk.data.n || !jwk.data.e) continue;
    if (jwk.data.alg !== undefined && jwk.data.alg !== "RS256") continue;
    if (jwk.data.use !== undefined && jwk.data.use !== "sig") continue;
    try {
      const key = await crypto.subtle.importKey(
        "jwk",
        { kty: "RSA", n: jwk.data.n, e: jwk.data.e, alg: "RS256", ext: true },
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["verify"],
      );
      keys.set(jwk.data.kid, key);
    } catch {
      // A malformed key is skipped; a JWT naming it is refused as signed by an unknown key.
    }
  }
  const set = { keys, fetchedAt: Date.now() };
  cache.set(certsUrl, set);
  return set;
}
