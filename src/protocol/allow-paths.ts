/**
 * Which extra upstream paths a server exposes besides its MCP endpoint (Hello's `allowPaths`).
 * Paths are what follows the agent-facing `.../SERVER/mcp`: "" is the endpoint itself, anything
 * else starts with "/". An entry allows exactly that path; an entry ending in "/*" allows every
 * path under it. Entries may omit the leading "/". Both ends apply the same rule.
 */
export function isPathAllowed(allowPaths: readonly string[], path: string): boolean {
  if (path === "") return true;
  return allowPaths.some((entry) => {
    const allowed = entry.startsWith("/") ? entry : `/${entry}`;
    return allowed.endsWith("/*") ? path.startsWith(allowed.slice(0, -1)) : path === allowed;
  });
}

/**
 * True when a path could climb out of the endpoint once resolved as a URL ("." or ".." segments,
 * also percent-encoded, backslashes, empty segments) or smuggle a query or fragment.
 */
export function isUnsafePath(path: string): boolean {
  if (path === "") return false;
  if (!path.startsWith("/") || /[\\?#]/.test(path)) return true;
  return path
    .slice(1)
    .split("/")
    .some((segment, i, all) => {
      const decoded = segment.replace(/%2e/gi, ".");
      return decoded === "." || decoded === ".." || (segment === "" && i < all.length - 1);
    });
}
