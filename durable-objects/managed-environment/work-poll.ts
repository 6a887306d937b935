/**
 * One poll of an environment's work queue (`GET /v1/environments/{id}/work/poll`), as the SDK
 * workers make it: the environment key as Bearer (a poll never uses a work item's token), a stable
 * `Anthropic-Worker-ID`, `block_ms`. No retries here: the environment's alarm is the retry loop
 * (./poll-schedule.ts), so a failure is answered at once and scheduled there.
 */
import { ApiError, callApiJson, NO_RETRY } from "../../src/managed-agents/api-client.ts";
import type { EnvironmentConfig } from "../../src/managed-agents/environment-config.ts";
import { PollResponseSchema, type Work } from "../../src/managed-agents/protocol.ts";

/** A poll's answer cannot take longer than its block plus this before the poll is abandoned. */
const POLL_GRACE_MS = 15_000;

export async function pollWork(
  config: EnvironmentConfig,
  environmentKey: string,
  workerId: string,
  blockMs: number,
): Promise<Work | null> {
  const path = `/v1/environments/${encodeURIComponent(config.environmentId)}/work/poll`;
  const body = await callApiJson(
    { baseUrl: config.apiBaseUrl, bearer: environmentKey },
    {
      method: "GET",
      path,
      query: { block_ms: blockMs },
      headers: { "anthropic-worker-id": workerId },
      retry: NO_RETRY,
      signal: AbortSignal.timeout(blockMs + POLL_GRACE_MS),
    },
  );
  const parsed = PollResponseSchema.safeParse(body);
  if (!parsed.success)
    throw new ApiError(502, "invalid_response", "the poll answered something that is not work", path);
  return parsed.data;
}

/**
 * An API failure as operators may see it: status, type and the API's message, never the request's
 * credentials. Any secret that would still appear (an API echoing a token) is cut out, whole.
 */
export function describeFailure(error: unknown, secrets: readonly (string | null)[]): string {
  const text =
    error instanceof ApiError
      ? `${error.status} ${error.type}: ${error.apiMessage}`
      : error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
  return redact(text, secrets).slice(0, 500);
}

/** Replaces every secret, and any run of 8 or more of its characters, with `[redacted]`. */
export function redact(text: string, secrets: readonly (string | null)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.replaceAll(secret, "[redacted]");
    // A prefix of at least 8 characters (a truncated echo) is a leak too.
    for (let length = secret.length - 1; length >= 8; length--) {
      const prefix = secret.slice(0, length);
      if (out.includes(prefix)) out = out.replaceAll(prefix, "[redacted]");
    }
  }
  return out;
}
