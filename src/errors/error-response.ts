import { type ErrorCode, isTetherError, TetherError } from "./tether-error.ts";

/** Coerces anything thrown into a TetherError, hiding internals of unexpected failures. */
export function asTetherError(error: unknown): TetherError {
  if (isTetherError(error)) return error;
  console.error("unexpected error", error);
  return new TetherError("internal", "internal error", { cause: error });
}

/** Plain JSON body: `{ error: { code, message } }`. */
export function errorResponse(error: unknown): Response {
  const e = asTetherError(error);
  return Response.json({ error: { code: e.code, message: e.message } }, { status: e.status, headers: e.headers });
}

/**
 * JSON-RPC body for MCP endpoints, so MCP clients surface the message instead of a parse failure.
 * `id` is the request's id when known (null otherwise, as JSON-RPC prescribes).
 */
export function jsonRpcErrorResponse(error: unknown, id: string | number | null = null): Response {
  const e = asTetherError(error);
  return Response.json(jsonRpcErrorBody(e, id), { status: e.status, headers: e.headers });
}

/** A JSON-RPC error message (`id` null when the request's id is unknown, as JSON-RPC prescribes). */
export interface JsonRpcErrorBody {
  jsonrpc: "2.0";
  id: string | number | null;
  error: { code: number; message: string; data: { code: ErrorCode } };
}

/** The JSON-RPC error message itself, also for answers that are not a whole response (an SSE event). */
export function jsonRpcErrorBody(error: TetherError, id: string | number | null): JsonRpcErrorBody {
  return { jsonrpc: "2.0", id, error: { code: error.jsonRpcCode, message: error.message, data: { code: error.code } } };
}
