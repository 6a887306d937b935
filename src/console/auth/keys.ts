/**
 * The console's keys, derived from the admin token with HKDF (WebCrypto): one per purpose, so a
 * cookie signature can never double as a CSRF token. Nothing is stored: rotating the admin token
 * changes every key, which is what invalidates every console session signed with the old one.
 */
const SALT = new TextEncoder().encode("tether console v1");

export type ConsoleKeyPurpose = "session" | "csrf";

/** Derived keys of this isolate, by purpose then secret (a handful: the admin token rarely changes). */
const cache = new Map<string, Promise<CryptoKey>>();
const CACHE_LIMIT = 8;

/** The HMAC-SHA256 key for `purpose` under `secret` (the admin token, or an Access JWT for CSRF). */
export function consoleKey(secret: string, purpose: ConsoleKeyPurpose): Promise<CryptoKey> {
  const cacheKey = `${purpose}\u0000${secret}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = derive(secret, purpose);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(cacheKey, key);
  }
  return key;
}

async function derive(secret: string, purpose: ConsoleKeyPurpose): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: new TextEncoder().encode(`tether console ${purpose}`) },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

export async function hmac(key: CryptoKey, message: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
}

/** Checks an HMAC in constant time (WebCrypto's verify). */
export function hmacVerify(key: CryptoKey, signature: Uint8Array<ArrayBuffer>, message: string): Promise<boolean> {
  return crypto.subtle.verify("HMAC", key, signature, new TextEncoder().encode(message));
}
