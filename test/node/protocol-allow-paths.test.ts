/**
 * The allow-path rule both ends apply: a path is judged by what the upstream will route (decoded
 * once), and anything a server could read in more than one way is refused.
 */
import { describe, expect, test } from "vitest";
import { AllowPathSchema } from "../../src/gateway/config.ts";
import { decodedUpstreamPath, isPathAllowed, isUnsafePath } from "../../src/protocol/allow-paths.ts";

const ALLOW = ["/.well-known/oauth-protected-resource", "/files/*"];

describe("allowed paths", () => {
  test("the endpoint, exact entries and everything under a /* entry", () => {
    for (const path of ["", "/.well-known/oauth-protected-resource", "/files/a", "/files/a/b.txt", "/files/"]) {
      expect(isPathAllowed(ALLOW, path), path).toBe(true);
    }
    for (const path of ["/files", "/admin", "/.well-known/oauth-protected-resource/x", "/filesx/a"]) {
      expect(isPathAllowed(ALLOW, path), path).toBe(false);
    }
  });

  test("compared decoded, as the upstream routes them", () => {
    expect(decodedUpstreamPath("/fil%65s/a%20b")).toBe("/files/a b");
    expect(isPathAllowed(ALLOW, "/fil%65s/a%20b")).toBe(true);
    expect(isPathAllowed(["/a b"], "/a%20b")).toBe(true);
    expect(isPathAllowed(["a%20b"], "/a b")).toBe(true);
  });
});

describe("smuggling attempts are refused whatever the allow list", () => {
  const attempts = [
    "/files/..%2fadmin",
    "/files/..%2Fadmin",
    "/files/%2e%2e%2fadmin",
    "/files/..%5cadmin",
    "/files/..%5Cadmin",
    "/files/..\\admin",
    "/files/%252e%252e%252fadmin",
    "/files/%25%32%66admin",
    "/files/a%252fb",
    "/files//admin",
    "/files/../admin",
    "/files/./a",
    "/files/%2e%2e/admin",
    "/files/%2E/a",
    "/files/..;x/admin",
    "/files/.;/a",
    "/files/a%00",
    "/files/a%0d%0ab",
    "/files/%zz",
    "/files/%c3%28",
    "/files/a?x=1",
    "/files/a#x",
    "/files/a%3Fx=1",
    "/files/a%23x",
    "files/a",
  ];
  for (const path of attempts) {
    test(path, () => {
      expect(isUnsafePath(path)).toBe(true);
      expect(decodedUpstreamPath(path)).toBeNull();
      expect(isPathAllowed([...ALLOW, "/*", "/admin"], path)).toBe(false);
    });
  }
});

test("the gateway refuses the same shapes as allow-path entries", () => {
  for (const entry of ["/files/*", "files/*", "/.well-known/oauth-protected-resource", "/a%20b"]) {
    expect(AllowPathSchema.safeParse(entry).success, entry).toBe(true);
  }
  for (const entry of ["/", "/x/%2f/*", "/x/..%2fadmin", "/%252e", "/x//y", "/x/../y"]) {
    expect(AllowPathSchema.safeParse(entry).success, entry).toBe(false);
  }
});
