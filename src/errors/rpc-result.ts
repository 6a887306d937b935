/**
 * How Durable Object RPC methods answer expected refusals (404, 401, 409, 413, 507 …): as values,
 * not exceptions. A TetherError thrown out of an RPC method reaches the caller as a plain Error (its
 * class, status and JSON-RPC code are gone), and the runtime logs it as an uncaught exception with
 * a stack trace, although refusing a bad request is not a fault. So the object answers with
 * `settle(...)` (or `ok`/`fail`), and the caller's `unwrap(...)` rebuilds the very same TetherError,
 * which then maps to the same response as if it had been thrown in the Worker. Unexpected failures
 * still throw.
 */
import { type ErrorCode, isTetherError, TetherError } from "./tether-error.ts";

/** What crosses the RPC boundary for a TetherError (structured-clonable). */
export interface RpcFailure {
  code: ErrorCode;
  message: string;
  headers: Record<string, string>;
}

export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: RpcFailure };

export function ok<T>(value: T): RpcResult<T> {
  return { ok: true, value };
}

export function fail(error: TetherError): { ok: false; error: RpcFailure } {
  return { ok: false, error: { code: error.code, message: error.message, headers: { ...error.headers } } };
}

/** Runs an RPC method's work: its value, or the TetherError it threw as a value. Other errors throw. */
export async function settle<T>(work: () => T | Promise<T>): Promise<RpcResult<T>> {
  try {
    return ok(await work());
  } catch (error) {
    if (!isTetherError(error)) throw error;
    return fail(error);
  }
}

/** On the caller's side: the value, or the TetherError the failure stands for (thrown). */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw new TetherError(result.error.code, result.error.message, { headers: result.error.headers });
}
