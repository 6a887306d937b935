/**
 * A stand-in for a Cloudflare Access team, for tests: it publishes RSA signing keys at
 * `/cdn-cgi/access/certs` (the JWKS address Access uses) on 127.0.0.1 and signs JWTs the way
 * Access does (RS256, `kid` in the header, aud/iss/exp/nbf/email claims). Keys are generated here
 * with node:crypto; `rotate` publishes a new one; `certFetches` counts how often the edge asked.
 */
import { createHmac, generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { serveWeb } from "./web-http-server.ts";

export interface AccessKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface AccessStandIn {
  /** The team "domain" to configure: a full http://127.0.0.1:PORT URL (local testing only). */
  teamDomain: string;
  audience: string;
  /** The key the published set currently signs with (the newest). */
  key(): AccessKey;
  /** Generates and publishes a new key (the old ones stay published). */
  rotate(): AccessKey;
  certFetches(): number;
  /** A JWT like Access issues; every field can be overridden, and the key and header too. */
  jwt(options?: JwtOptions): string;
  close(): Promise<void>;
}

export interface JwtOptions {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  key?: AccessKey;
}

export function newAccessKey(): AccessKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicKey };
}

export function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

export async function startAccessStandIn(audience = `aud-${randomUUID()}`): Promise<AccessStandIn> {
  const keys: AccessKey[] = [newAccessKey()];
  let fetches = 0;
  const server = await serveWeb(async (request) => {
    if (new URL(request.url).pathname !== "/cdn-cgi/access/certs") return new Response("not found", { status: 404 });
    fetches++;
    const published = keys.map((key) => ({
      ...key.publicKey.export({ format: "jwk" }),
      kid: key.kid,
      alg: "RS256",
      use: "sig",
    }));
    return Response.json({ keys: published, public_cert: { kid: keys[0]?.kid, cert: "unused" } });
  });
  const current = () => keys[keys.length - 1] as AccessKey;
  return {
    teamDomain: server.url,
    audience,
    key: current,
    rotate() {
      keys.push(newAccessKey());
      return current();
    },
    certFetches: () => fetches,
    jwt(options = {}) {
      const key = options.key ?? current();
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: "RS256", kid: key.kid, typ: "JWT", ...options.header };
      const claims = {
        aud: [audience],
        email: "operator@example.com",
        exp: now + 600,
        iat: now,
        nbf: now,
        iss: server.url,
        type: "app",
        sub: randomUUID(),
        ...options.claims,
      };
      const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      return `${signed}.${sign("sha256", Buffer.from(signed), key.privateKey).toString("base64url")}`;
    },
    close: () => server.close(),
  };
}

/** An HS256 JWT keyed with the published public key: the classic algorithm-confusion forgery. */
export function hs256WithPublicKey(standIn: AccessStandIn): string {
  const key = standIn.key();
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", kid: key.kid, typ: "JWT" }));
  const claims = b64url(
    JSON.stringify({ aud: [standIn.audience], email: "x@example.com", exp: now + 600, iss: standIn.teamDomain }),
  );
  const pem = key.publicKey.export({ format: "pem", type: "spki" });
  return `${header}.${claims}.${createHmac("sha256", pem).update(`${header}.${claims}`).digest("base64url")}`;
}
