import { z } from "zod";

/**
 * Who an operator is, as the edge knows it: the holder of the admin token (by bearer header or a
 * console session signed in with it), or a person Cloudflare Access vouched for. Every operator
 * action is recorded in the audit trail under `operatorLabel`.
 */
export const OperatorSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("admin-token") }),
  z.object({ kind: z.literal("access"), email: z.string().min(1).max(320) }),
]);
export type Operator = z.infer<typeof OperatorSchema>;

/** The identity written to the audit trail and shown in the console. */
export function operatorLabel(operator: Operator): string {
  return operator.kind === "access" ? operator.email : "admin-token";
}
