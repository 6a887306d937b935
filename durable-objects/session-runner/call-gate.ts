/**
 * Permission gating of a tool use (protocol §4): absent or `allow` runs; `deny` runs nothing and
 * posts nothing; `ask` (`always_ask`) and unknown permissions wait for a `user.tool_confirmation`,
 * whose `allow` runs the call and whose `deny` (or an unknown verdict) drops it unposted.
 */
export type GateDecision = "run" | "hold" | "deny";

export function gate(permission: string, verdict: string | undefined): GateDecision {
  if (permission === "allow") return "run";
  if (permission === "deny") return "deny";
  if (verdict === undefined) return "hold";
  return verdict === "allow" ? "run" : "deny";
}
