/**
 * The one error type Tether throws on purpose. It carries everything needed to answer an HTTP
 * caller (status, stable code) and a JSON-RPC caller (code), so no handler invents its own shape.
 * `toResponse` in ./error-response.ts is the single place that turns it into a Response.
 */
export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "forbidden_origin"
  /** A valid token asking for something outside its scope (e.g. a sandbox backend it was not granted). */
  | "forbidden"
  | "payload_too_large"
  | "quota_exceeded"
  | "no_gateway"
  | "upstream_unavailable"
  | "over_capacity"
  | "gateway_lost"
  | "timeout"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  forbidden_origin: 403,
  forbidden: 403,
  payload_too_large: 413,
  quota_exceeded: 507,
  no_gateway: 503,
  upstream_unavailable: 502,
  over_capacity: 503,
  gateway_lost: 502,
  timeout: 504,
  internal: 500,
};

/** JSON-RPC error codes: -32600 invalid request, -32000.. server-defined range. */
const JSON_RPC_CODE: Record<ErrorCode, number> = {
  bad_request: -32600,
  unauthorized: -32001,
  not_found: -32002,
  method_not_allowed: -32600,
  conflict: -32003,
  forbidden_origin: -32004,
  forbidden: -32007,
  payload_too_large: -32005,
  quota_exceeded: -32006,
  no_gateway: -32010,
  upstream_unavailable: -32011,
  over_capacity: -32014,
  gateway_lost: -32012,
  timeout: -32013,
  internal: -32603,
};

export class TetherError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly jsonRpcCode: number;
  /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, { cause: options.cause });
    this.name = "TetherError";
    this.code = code;
    this.status = STATUS[code];
    this.jsonRpcCode = JSON_RPC_CODE[code];
    this.headers = options.headers ?? {};
  }
}

export function isTetherError(value: unknown): value is TetherError {
  return value instanceof TetherError;
}
