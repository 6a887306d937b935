/**
 * Answers in the Anthropic API's own shapes: errors are `{type:"error", error:{type, message,
 * details?}}` with the status the protocol document gives. The stand-in speaks that API, not
 * Tether's, so it has its own small error type.
 */
import type { ApiErrorBody } from "../../../src/managed-agents/protocol.ts";

/**
 * The API's error types. Conflicts (409) and failed preconditions (412) are `invalid_request_error`
 * with the status telling them apart (and `details.error_code` where the protocol document gives one).
 */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

export class ApiError extends Error {
  readonly status: number;
  readonly type: ApiErrorType;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    type: ApiErrorType,
    message: string,
    details?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.details = details;
    this.headers = headers;
  }
}

export function errorResponse(error: ApiError): Response {
  const body: ApiErrorBody = {
    type: "error",
    error: { type: error.type, message: error.message, ...(error.details ? { details: error.details } : {}) },
  };
  return Response.json(body, { status: error.status, headers: error.headers });
}

export const badRequest = (message: string) => new ApiError(400, "invalid_request_error", message);
export const notFound = (what: string) => new ApiError(404, "not_found_error", `${what} not found`);
export const unauthorized = (message: string) => new ApiError(401, "authentication_error", message);

/** Largest request body the stand-in reads (its answers are bounded the same way). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The JSON body of a request ({} when empty), or 400/413. */
export async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new ApiError(413, "request_too_large", "request body is too large");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
}

/** Validates with a zod schema; the first issue becomes a 400 naming the field. */
export function parseWith<T>(
  schema: {
    safeParse(
      value: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
  },
  value: unknown,
  what: string,
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") || "(body)";
  throw badRequest(`invalid ${what}: ${field}: ${issue?.message ?? "invalid"}`);
}

/** The query string as a plain object (first value of each name), for schema validation. */
export function queryOf(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams);
}

/** Sequential ids with the API's prefixes (`work_…`, `sesn_…`, `sevt_…`), unique per stand-in. */
export class IdSource {
  #next = 1;
  make(prefix: string): string {
    return `${prefix}_${String(this.#next++).padStart(24, "0")}`;
  }
}
