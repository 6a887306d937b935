/**
 * Which credential each of a work item's calls carries (protocol §0). The environment key polls and
 * acknowledges; the decoded work `secret`'s `sessions_token` replaces it (and its `api_base_url`, when
 * given, replaces the base URL) for heartbeat, stop, session, events, skills and memory calls. With no
 * secret the environment key is used everywhere. The ack is not named among the token's calls and the
 * API accepts it with the environment key only, so it keeps the key.
 */
import type { ApiCredentials } from "../api-client.ts";

export interface RunnerCredentialSource {
  apiBaseUrl: string;
  environmentKey: string;
  sessionsToken: string | null;
  tokenBaseUrl: string | null;
}

/** Poll and ack. */
export function environmentCredentials(source: RunnerCredentialSource): ApiCredentials {
  return { baseUrl: source.apiBaseUrl, bearer: source.environmentKey };
}

/** Heartbeat, stop, session, events, skills, memory. */
export function workCredentials(source: RunnerCredentialSource): ApiCredentials {
  if (source.sessionsToken === null) return environmentCredentials(source);
  return { baseUrl: source.tokenBaseUrl ?? source.apiBaseUrl, bearer: source.sessionsToken };
}

/** Poll and ack paths: the calls that always carry the environment key. */
const ENVIRONMENT_KEY_PATH = /\/work\/(poll|[^/]+\/ack)$/;

/** Which credential a call to `path` carried, for messages (never the credential itself). */
export function credentialKind(source: RunnerCredentialSource, path: string): string {
  return source.sessionsToken !== null && !ENVIRONMENT_KEY_PATH.test(path)
    ? "the work item's sessions token"
    : "the environment key";
}
