/**
 * Redaction of what the audit trail stores of a call's arguments and results (opt-in for tunnels,
 * on by default for sandboxes). Applied when rows are written (behind the call), never on the
 * call's path. What goes:
 *   - values of keys that look like secrets (token, secret, password, api key, authorization,
 *     cookie, credential, private key, …), unless they are numbers or booleans (`max_tokens: 100`);
 *   - bearer tokens and Tether tokens inside any string;
 *   - long base64 runs (40+ characters mixing upper case, lower case and digits: keys, tokens,
 *     blobs), which are rarely anything an operator needs to read.
 * Then the text is bounded (`boundText`). Heuristics, not a guarantee: operators who must never
 * store payloads leave them off.
 */
import { byteLength, utf8Prefix } from "../sandbox/fs/encoding.ts";

export const REDACTED = "[REDACTED]";

/** Key names whose values are secrets (matched against the key with `-`, `_`, spaces removed). */
const SECRET_KEY =
  /(passw(or)?d|passphrase|secret|token|apikey|accesskey|authori[sz]ation|^auth$|cookie|credential|privatekey|signature|sessionkey|clientsecret|^pwd$|^pass$)/i;

const BEARER = /\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi;
/** A header line in text (`Authorization: Basic …`, `Cookie: …`): everything after the colon. */
const SECRET_HEADER = /\b((?:proxy-)?authorization|set-cookie|cookie|x-api-key|api-key)(\s*[:=]\s*)[^\r\n"']+/gi;
const TETHER_TOKEN = /\btth\.[a-z]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{8,}/g;
const BASE64_RUN = /[A-Za-z0-9+/_-]{40,}={0,2}/g;
/** `"password": "…"` inside text that is not a parsable JSON value (SSE, truncated bodies). */
const SECRET_JSON_MEMBER = /("([^"\\]{1,64})"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

const MAX_DEPTH = 32;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[-_\s.]/g, ""));
}

/** A copy of `value` (JSON data) with secret-looking members and strings redacted. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    const keep = typeof member === "number" || typeof member === "boolean" || member === null;
    out[key] = isSecretKey(key) && !keep ? REDACTED : redactValue(member, depth + 1);
  }
  return out;
}

/** Redacts bearer tokens, Tether tokens, long base64 runs and secret-looking JSON members in free text. */
export function redactText(text: string): string {
  return text
    .replace(SECRET_JSON_MEMBER, (match, prefix: string, key: string) =>
      isSecretKey(key) ? `${prefix}"${REDACTED}"` : match,
    )
    .replace(SECRET_HEADER, (_match, name: string, separator: string) => `${name}${separator}${REDACTED}`)
    .replace(BEARER, (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`)
    .replace(TETHER_TOKEN, REDACTED)
    .replace(BASE64_RUN, (run) => (looksRandom(run) ? `[REDACTED ${run.length} chars]` : run));
}

/** Redacted JSON of `value`, bounded to `maxBytes` (UTF-8). */
export function redactedJson(value: unknown, maxBytes: number): string {
  return boundText(JSON.stringify(redactValue(value)) ?? "null", maxBytes);
}

/**
 * Redacts the first bytes of a body: as JSON when they parse (whole bodies), else as text (event
 * streams, bodies cut at the capture limit). Bounded to `maxBytes`.
 */
export function redactedBody(bytes: Uint8Array, maxBytes: number, truncatedFrom?: number): string {
  const text = new TextDecoder().decode(bytes);
  let redacted: string;
  try {
    redacted = JSON.stringify(redactValue(JSON.parse(text)));
  } catch {
    redacted = redactText(text);
  }
  const total = truncatedFrom ?? bytes.byteLength;
  return boundText(redacted, maxBytes, total > bytes.byteLength ? total : undefined);
}

/** `text` cut to at most `maxBytes` UTF-8 bytes (on a character boundary), marked when cut. */
export function boundText(text: string, maxBytes: number, originalBytes?: number): string {
  const size = byteLength(text);
  if (size <= maxBytes && originalBytes === undefined) return text;
  const marker = `…[truncated, ${originalBytes ?? size} bytes]`;
  if (size <= maxBytes) return `${text}${marker}`;
  return `${utf8Prefix(text, Math.max(0, maxBytes - byteLength(marker)))}${marker}`;
}

function looksRandom(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run);
}

/** Known secret values shorter than this are not looked for (they would redact ordinary words). */
export const MIN_KNOWN_SECRET_CHARS = 6;

/**
 * Redacts every occurrence of known secret values (a sandbox's environment values: the agent may
 * well print them) in `text`, also in their JSON-escaped form.
 */
export function redactKnown(text: string, known: readonly string[]): string {
  let out = text;
  for (const value of known) {
    if (value.length < MIN_KNOWN_SECRET_CHARS) continue;
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1)])) out = out.replaceAll(form, REDACTED);
  }
  return out;
}
