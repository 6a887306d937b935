/**
 * Calls to Anthropic's API as a self-hosted worker makes them: the beta headers, the bearer
 * credential (the environment key, or a work item's sessions token), JSON bodies, and retries the
 * way the SDK workers retry (408, 409, 429, 5xx and network errors; other 4xx are final), with
 * exponential backoff, jitter, and `Retry-After` honoured.
 *
 * Credentials never appear in an error: `ApiError` carries the status, the API's error type and
 * message, and the path; the bearer stays in the request headers built here.
 */
import { backoffDelay } from "../retry/backoff.ts";
import { ApiErrorBodySchema } from "./protocol.ts";

export const ANTHROPIC_VERSION = "2023-06-01";
export const MANAGED_AGENTS_BETA = "managed-agents-2026-04-01";
export const SKILLS_BETA = "skills-2025-10-02";
export const MEMORY_BETA = "agent-memory-2026-07-22";

export interface ApiCredentials {
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; never `x-api-key` (the API refuses both together). */
  bearer: string;
}

export interface RetryPolicy {
  /** Give up once this much time has passed since the first try (ms). 0: one try only. */
  withinMs: number;
  baseMs: number;
  capMs: number;
}

/** The SDK workers' result retry: 1 s·2ⁿ up to 30 s. */
export const DEFAULT_RETRY: RetryPolicy = { withinMs: 60_000, baseMs: 1000, capMs: 30_000 };
export const NO_RETRY: RetryPolicy = { withinMs: 0, baseMs: 0, capMs: 0 };

export interface ApiRequest {
  method: "GET" | "POST" | "DELETE" | "PATCH";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Extra beta names beyond managed-agents (skills, memory). */
  betas?: string[];
  accept?: string;
  /** Further headers (`Anthropic-Worker-ID` on polls); they cannot replace the credential or betas. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** Statuses that are answers, not errors (409 on stop, 412 on heartbeat): returned as they are. */
  expect?: number[];
}

/** A final refusal from the API (or the last one before retries ran out). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly type: string;
  readonly apiMessage: string;
  readonly path: string;
  readonly details: Record<string, unknown> | undefined;
  /** What the answer's `Retry-After` asked for (ms), when it had one. */
  retryAfterMs: number | undefined;

  constructor(status: number, type: string, apiMessage: string, path: string, details?: Record<string, unknown>) {
    super(`${status} ${type} from ${path}: ${apiMessage}`);
    this.status = status;
    this.type = type;
    this.apiMessage = apiMessage;
    this.path = path;
    this.details = details;
  }

  /** The environment's credentials were refused: looping on them would not help. */
  get credentialsRefused(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Time to wait before a retry: `Retry-After` (seconds or a date) when given, else the backoff. */
export function retryDelay(response: Response | null, attempt: number, policy: RetryPolicy, now = Date.now()): number {
  const asked = retryAfterMs(response, now);
  if (asked !== undefined) return policy.capMs ? Math.min(asked, policy.capMs) : asked;
  return backoffDelay(attempt, { baseMs: policy.baseMs, capMs: policy.capMs });
}

/** An answer's `Retry-After` (delay in seconds, or an HTTP date) in ms; undefined without a valid one. */
export function retryAfterMs(response: Response | null, now = Date.now()): number | undefined {
  const header = response?.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

export function apiUrl(credentials: ApiCredentials, path: string, query: ApiRequest["query"] = {}): string {
  const url = new URL(path, credentials.baseUrl.endsWith("/") ? credentials.baseUrl : `${credentials.baseUrl}/`);
  url.searchParams.set("beta", "true");
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
  return url.toString();
}

export function apiHeaders(
  credentials: ApiCredentials,
  request: Pick<ApiRequest, "betas" | "accept" | "body" | "headers">,
): Headers {
  const headers = new Headers(request.headers);
  // Bearer plus x-api-key is refused by the API: only the bearer is ever sent.
  headers.delete("x-api-key");
  for (const [name, value] of Object.entries({
    authorization: `Bearer ${credentials.bearer}`,
    "anthropic-version": ANTHROPIC_VERSION,
    "anthropic-beta": [MANAGED_AGENTS_BETA, ...(request.betas ?? [])].join(","),
    accept: request.accept ?? "application/json",
  }))
    headers.set(name, value);
  if (request.body !== undefined) headers.set("content-type", "application/json");
  return headers;
}

/**
 * Sends the request, retrying as the policy allows. Answers the response when it is 2xx or one of
 * `expect`; throws `ApiError` otherwise, and the network error when retries run out on one.
 */
export async function callApi(credentials: ApiCredentials, request: ApiRequest): Promise<Response> {
  const policy = request.retry ?? DEFAULT_RETRY;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    let response: Response | null = null;
    let failure: unknown;
    try {
      response = await fetch(apiUrl(credentials, request.path, request.query), {
        method: request.method,
        headers: apiHeaders(credentials, request),
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      if (response.ok || request.expect?.includes(response.status)) return response;
      failure = await apiError(response, request.path);
      if (!isRetryableStatus(response.status)) throw failure;
    } catch (error) {
      if (error instanceof ApiError && !isRetryableStatus(error.status)) throw error;
      if (request.signal?.aborted) throw request.signal.reason ?? error;
      failure = error;
    }
    const wait = retryDelay(response, attempt, policy);
    if (Date.now() + wait - started > policy.withinMs) throw failure;
    await sleep(wait, request.signal);
  }
}

/** `callApi` and the JSON body of its answer. */
export async function callApiJson(credentials: ApiCredentials, request: ApiRequest): Promise<unknown> {
  const response = await callApi(credentials, request);
  const text = await response.text();
  return text === "" ? null : JSON.parse(text);
}

export async function apiError(response: Response, path: string): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const parsed = ApiErrorBodySchema.safeParse(body);
  const error = parsed.success
    ? new ApiError(response.status, parsed.data.error.type, parsed.data.error.message, path, parsed.data.error.details)
    : new ApiError(response.status, "unknown_error", `HTTP ${response.status}`, path, undefined);
  error.retryAfterMs = retryAfterMs(response);
  return error;
}

/** Waits `ms`, or until `signal` aborts (then rejects with its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
