/**
 * `SandboxFiles` (what skills and memory sync need) over a Sandbox Durable Object's RPC methods,
 * as the session runner holds them: whole-file put with the executable bit as a mode, get (null
 * for a missing file), the recursive listing, and removal (a missing path is not an error).
 */
import type { Caller } from "../../durable-objects/sandbox/caller.ts";
import type { RpcResult } from "../errors/rpc-result.ts";
import { unwrap } from "../errors/rpc-result.ts";
import type { SandboxFileInfo, SandboxFiles } from "./sandbox-files.ts";

/** The Sandbox RPC methods used here (a `DurableObjectStub<Sandbox>` has them). */
export interface SandboxFileRpc {
  putFile(
    caller: Caller,
    path: string,
    body: ReadableStream<Uint8Array>,
    length: number | null,
    mode?: number,
  ): Promise<RpcResult<unknown>>;
  getFile(caller: Caller, path: string): Promise<RpcResult<Response>>;
  deleteFile(caller: Caller, path: string): Promise<RpcResult<void>>;
  listFiles(caller: Caller, root: string): Promise<RpcResult<SandboxFileInfo[]>>;
}

export function sandboxFilesOverRpc(sandbox: SandboxFileRpc, caller: Caller): SandboxFiles {
  return {
    async put(path, bytes, options) {
      const body = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
      unwrap(await sandbox.putFile(caller, path, body, bytes.byteLength, options?.executable ? 0o755 : 0o644));
    },
    async get(path) {
      const result = await sandbox.getFile(caller, path);
      if (!result.ok && result.error.code === "not_found") return null;
      return new Uint8Array(await unwrap(result).arrayBuffer());
    },
    async list(root) {
      return unwrap(await sandbox.listFiles(caller, root));
    },
    async remove(path) {
      const result = await sandbox.deleteFile(caller, path);
      if (!result.ok && result.error.code === "not_found") return;
      unwrap(result);
    },
  };
}
