/**
 * The agent endpoint's path, `/t/TUNNEL/SERVER/mcp[/REST]`, read from the raw URL path. The
 * names are percent-decoded (as routing saw them); REST, the extra upstream path, is kept
 * exactly as the agent sent it, because that is what travels to the upstream and what the
 * allow-path check must judge (src/protocol/allow-paths.ts). Taking REST by position in the raw
 * path, not by the length of decoded names, keeps an encoded name from shifting the cut.
 */
export interface AgentPath {
  tunnel: string;
  server: string;
  /** "" for the MCP endpoint itself, else the raw rest of the path (starts with "/"). */
  path: string;
}

const AGENT_PATH = /^\/t\/([^/]+)\/([^/]+)\/([^/]+)(\/.*)?$/;

/** The parts of an agent endpoint's raw path, or null when it is not one (or a name does not decode). */
export function parseAgentPath(rawPathname: string): AgentPath | null {
  const match = AGENT_PATH.exec(rawPathname);
  if (!match) return null;
  const [tunnel, server, endpoint] = [match[1], match[2], match[3]].map((segment) => decodeSegment(segment as string));
  if (tunnel == null || server == null || endpoint !== "mcp") return null;
  return { tunnel, server, path: match[4] ?? "" };
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
