/**
 * Stops a tool call the runner started in its sandbox, when the work is no longer the runner's.
 *
 * INTERIM: the Sandbox's `abortToolCall(caller, toolUseId)` RPC is not on this branch yet. Until it
 * lands the runner only stops waiting for the call (it never posts its result); the call itself ends
 * on its own bound. Wire the RPC here when it exists; nothing else changes:
 *   unwrap(await sandbox.abortToolCall({ kind: "admin" }, toolUseId));
 */
import type { Sandbox } from "../../../durable-objects/sandbox.ts";

export async function abortToolCall(_sandbox: DurableObjectStub<Sandbox>, toolUseId: string): Promise<void> {
  console.log(`tool call ${toolUseId}: abort not available in the sandbox yet; its result will not be posted`);
}
