import { describe, expect, test } from "vitest";
import {
  boundText,
  isSecretKey,
  REDACTED,
  redactedBody,
  redactedJson,
  redactText,
  redactValue,
} from "../../src/audit/redact.ts";

const SECRET_B64 = "dGhpcyBpcyBhIHNlY3JldCBrZXkgdGhhdCBpcyBsb25nIGVub3VnaA9Xz7Qw";

describe("redaction of stored payloads", () => {
  test("values of secret-looking keys go, at any depth; numbers and booleans under such keys stay", () => {
    const input = {
      path: "/workspace/a.txt",
      password: "hunter2",
      nested: { api_key: "k-123", "X-Api-Key": "abc", Authorization: "Bearer abc", list: [{ client_secret: "s" }] },
      credentials: { user: "u", pass: "p" },
      privateKey: "-----BEGIN PRIVATE KEY-----",
      cookie: "sid=1",
      max_tokens: 100,
      token_count: 3,
      use_token: true,
      refresh_token: null,
    };
    expect(redactValue(input)).toEqual({
      path: "/workspace/a.txt",
      password: REDACTED,
      nested: {
        api_key: REDACTED,
        "X-Api-Key": REDACTED,
        Authorization: REDACTED,
        list: [{ client_secret: REDACTED }],
      },
      credentials: REDACTED,
      privateKey: REDACTED,
      cookie: REDACTED,
      max_tokens: 100,
      token_count: 3,
      use_token: true,
      refresh_token: null,
    });
  });

  test("key names: what counts as a secret and what does not", () => {
    for (const key of [
      "token",
      "access_token",
      "Secret",
      "PASSWORD",
      "passwd",
      "apiKey",
      "api-key",
      "auth",
      "x-auth-token",
      "private_key",
      "Set-Cookie",
      "credential",
      "signature",
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ["path", "command", "author", "authority", "file_text", "name", "description", "passage"]) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });

  test("bearer tokens, Tether tokens, header lines and long base64 runs inside strings", () => {
    expect(redactText("curl -H 'Authorization: Bearer abcdefgh12345678' https://x")).toBe(
      `curl -H 'Authorization: ${REDACTED}' https://x`,
    );
    expect(redactText("use bearer abcdefgh12345678 please")).toBe(`use bearer ${REDACTED} please`);
    expect(redactText("token tth.api.0123abcd.Zx9_secretpart-xyz here")).toBe(`token ${REDACTED} here`);
    expect(redactText(`key=${SECRET_B64}.`)).toBe(`key=[REDACTED ${SECRET_B64.length} chars].`);
    expect(redactText("Cookie: sid=abc; theme=dark\nnext line")).toBe(`Cookie: ${REDACTED}\nnext line`);
    // Ordinary text, paths, lowercase hex and short words stay.
    const plain = "ls -la /usr/lib/x86_64-linux-gnu/libc.so.6 && echo 3f2a9c0e5b7d4a1f8e6c2b0a9d8f7e6c5b4a3f2e done";
    expect(redactText(plain)).toBe(plain);
  });

  test("secret members inside JSON text that does not parse (an event stream, a cut body)", () => {
    const sse = 'event: message\ndata: {"result":{"password":"hunter2","ok":true,"name":"x"}}\n\n';
    expect(redactText(sse)).toBe(
      `event: message\ndata: {"result":{"password":"${REDACTED}","ok":true,"name":"x"}}\n\n`,
    );
    const cut = new TextEncoder().encode('{"jsonrpc":"2.0","result":{"api_key":"k-1","text":"abc');
    expect(redactedBody(cut, 1024, 5000)).toBe(
      `{"jsonrpc":"2.0","result":{"api_key":"${REDACTED}","text":"abc…[truncated, 5000 bytes]`,
    );
  });

  test("bounded: JSON and text are cut to the byte limit on a character boundary, and say so", () => {
    const big = { text: "é".repeat(10_000) };
    const json = redactedJson(big, 1000);
    expect(new TextEncoder().encode(json).byteLength).toBeLessThanOrEqual(1000);
    expect(json).toMatch(/…\[truncated, \d+ bytes\]$/);
    expect(json).not.toContain("\uFFFD");
    expect(boundText("short", 100)).toBe("short");
  });

  test("deeply nested input is bounded too (no stack overflow)", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(() => redactedJson({ x: "y" }, 100)).not.toThrow();
    expect(JSON.stringify(redactValue(deep)).length).toBeLessThan(1000);
  });
});
