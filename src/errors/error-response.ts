import { isErrorCode, isTetherError, TetherError } from "./tether-error.ts";

/** Coerces anything thrown into a TetherError, hiding internals of unexpected failures. */
export function asTetherError(error: unknown): TetherError {
  if (isTetherError(error)) return error;
  const remote = fromRpc(error);
  if (remote) return remote;
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
  return Response.json(
    { jsonrpc: "2.0", id, error: { code: e.jsonRpcCode, message: e.message, data: { code: e.code } } },
    { status: e.status, headers: e.headers },
  );
}

/**
 * A TetherError thrown inside a Durable Object reaches the caller of its RPC method as a plain Error
 * that keeps its name and own properties (code, headers): rebuild it so its status survives.
 */
function fromRpc(error: unknown): TetherError | null {
  if (!(error instanceof Error) || error.name !== "TetherError") return null;
  const { code, headers } = error as Error & { code?: unknown; headers?: unknown };
  if (typeof code !== "string" || !isErrorCode(code)) return null;
  const extra = headers && typeof headers === "object" ? (headers as Record<string, string>) : {};
  return new TetherError(code, error.message, { cause: error, headers: extra });
}
