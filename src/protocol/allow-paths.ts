/**
 * Which extra upstream paths a server exposes besides its MCP endpoint (Hello's `allowPaths`).
 * Paths are what follows the agent-facing `.../SERVER/mcp`: "" is the endpoint itself, anything
 * else starts with "/". An entry allows exactly that path; an entry ending in "/*" allows every
 * path under it. Entries may omit the leading "/". Both ends (edge and gateway) apply this rule.
 *
 * A path travels to the upstream exactly as the agent sent it, and upstream servers and their
 * frameworks percent-decode it before routing (some decode `%2F` into a separator, some resolve
 * `..` afterwards, some decode twice). So a path is judged by its decoded form, and refused when
 * a server could read it in more than one way: an encoded slash or backslash, anything still
 * percent-encoded after one decoding, `.`/`..` segments (also as `..;x`, which some servers treat
 * as `..`), empty segments (`//`), control characters, or a query or fragment (also encoded).
 */

/** The path as the upstream will route it (decoded once), or null when it is unsafe; "" stays "". */
export function decodedUpstreamPath(path: string): string | null {
  if (path === "") return "";
  if (!path.startsWith("/") || /[\\?#]|%2f|%5c/i.test(path)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null; // a malformed escape or invalid UTF-8
  }
  // "%" left after one decoding means double encoding; "\", "?" and "#" could only come from an
  // escape (`%3F` is a query to a server that decodes before it splits the URL).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[%\\?#\u0000-\u001f\u007f]/.test(decoded)) return null;
  const segments = decoded.slice(1).split("/");
  const unsafe = segments.some((segment, i) => {
    const name = segment.split(";")[0];
    return name === "." || name === ".." || (segment === "" && i < segments.length - 1);
  });
  return unsafe ? null : decoded;
}

/** True when a path is refused whatever the allow list (see the module comment). */
export function isUnsafePath(path: string): boolean {
  return decodedUpstreamPath(path) === null;
}

/** Whether `path` (raw, as the agent sent it) is safe and one of `allowPaths` admits its decoded form. */
export function isPathAllowed(allowPaths: readonly string[], path: string): boolean {
  if (path === "") return true;
  const decoded = decodedUpstreamPath(path);
  if (decoded === null) return false;
  return allowPaths.some((entry) => {
    const raw = entry.startsWith("/") ? entry : `/${entry}`;
    const prefix = raw.endsWith("/*");
    const allowed = decodedUpstreamPath(prefix ? raw.slice(0, -1) : raw);
    if (allowed === null) return false;
    return prefix ? decoded.startsWith(allowed) : decoded === allowed;
  });
}
