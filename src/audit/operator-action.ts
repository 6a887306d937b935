/**
 * Operator actions in the audit trail: who (the operator's label, src/auth/operator.ts) did what
 * to which tunnel, sandbox, token or environment, and when. Stored in the Registry (global: a
 * deleted tunnel's own storage is wiped with it), see durable-objects/registry/operator-actions.ts.
 *
 * Every admin route that changes something calls `recordOperatorAction` once the change is made
 * (the console's routes too). Never a secret: token secrets, upstream headers, environment values
 * and keys are not passed here (callers give ids, names and the names of changed fields), and the
 * detail is redacted again on the way in.
 */
import { z } from "zod";
import { registry } from "../../durable-objects/registry.ts";
import type { Env } from "../../workers/env.ts";
import { type Operator, operatorLabel } from "../auth/operator.ts";
import { redactValue } from "./redact.ts";

export const OPERATOR_ACTIONS = [
  "tunnel.created",
  "tunnel.deleted",
  "tunnel.settings_changed",
  "tunnel.token_created",
  "tunnel.token_revoked",
  "tunnel.session_ended",
  "sandbox.deleted",
  "api_token.created",
  "api_token.revoked",
  "environment.created",
  "environment.changed",
  "environment.deleted",
] as const;
export const OperatorActionNameSchema = z.enum(OPERATOR_ACTIONS);
export type OperatorActionName = z.infer<typeof OperatorActionNameSchema>;

const DETAIL_MAX_CHARS = 4096;

export const OperatorActionInputSchema = z
  .object({
    action: OperatorActionNameSchema,
    tunnel: z.string().max(200).optional(),
    sandbox: z.string().max(200).optional(),
    /** What was acted on within the tunnel or globally: a token id, a session, an environment name. */
    target: z.string().max(400).optional(),
    /** A few non-secret facts (a token's role, the settings set, the names of changed fields). */
    detail: z
      .record(z.string(), z.unknown())
      .refine((detail) => JSON.stringify(detail).length <= DETAIL_MAX_CHARS, `at most ${DETAIL_MAX_CHARS} characters`)
      .optional(),
  })
  .strict();
export type OperatorActionInput = z.infer<typeof OperatorActionInputSchema>;

export interface OperatorActionRow {
  id: number;
  at: number;
  operator: string;
  action: OperatorActionName;
  tunnel: string | null;
  sandbox: string | null;
  target: string | null;
  detail: Record<string, unknown> | null;
}

/**
 * Records an action that was just made. A failure to record is logged, not thrown: the action
 * happened, and answering it with an error would make the operator repeat it.
 */
export async function recordOperatorAction(env: Env, operator: Operator, action: OperatorActionInput): Promise<void> {
  try {
    const input = OperatorActionInputSchema.parse(action);
    const detail = input.detail ? (redactValue(input.detail) as Record<string, unknown>) : undefined;
    await registry(env).recordOperatorAction(operatorLabel(operator), { ...input, detail });
  } catch (error) {
    console.error(`recording operator action ${action.action} failed`, error);
  }
}
