/**
 * Who an operator is, as the edge knows it: the holder of the admin token (by bearer header or a
 * console session signed in with it), or a person Cloudflare Access vouched for. Every operator
 * action is recorded in the audit trail under `operatorLabel`.
 */
export type Operator = { kind: "admin-token" } | { kind: "access"; email: string };

/** The identity written to the audit trail and shown in the console. */
export function operatorLabel(operator: Operator): string {
  return operator.kind === "access" ? operator.email : "admin-token";
}
