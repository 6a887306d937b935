/**
 * Stops a tool call the runner started in its sandbox (queued or running there), when the work is
 * no longer the runner's or the call ran past its bound. Never throws: the runner does not wait on
 * it and posts nothing for the call either way.
 */
import type { Sandbox } from "../../../durable-objects/sandbox.ts";
import { unwrap } from "../../errors/rpc-result.ts";

export async function abortToolCall(sandbox: DurableObjectStub<Sandbox>, toolUseId: string): Promise<void> {
  try {
    unwrap(await sandbox.abortToolCall({ kind: "admin" }, toolUseId));
  } catch (error) {
    console.log(`tool call ${toolUseId}: abort failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
