import { type ErrorCode, isTetherError, TetherError } from "../../src/errors/tether-error.ts";

/**
 * How the Sandbox's RPC methods answer: expected refusals (404, 401, 413, 507 …) come back as values,
 * not as exceptions. An exception thrown out of a Durable Object RPC method is logged by the runtime
 * as an uncaught error with a stack trace; a sandbox that does not exist is not an error worth that.
 * Unexpected failures still throw.
 */
export type RpcResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: { code: ErrorCode; message: string; headers: Record<string, string> } };

export async function settle<T>(work: () => T | Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (!isTetherError(error)) throw error;
    return { ok: false, error: { code: error.code, message: error.message, headers: error.headers } };
  }
}

/** On the caller's side: the value, or the TetherError it stood for. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw new TetherError(result.error.code, result.error.message, { headers: result.error.headers });
}
