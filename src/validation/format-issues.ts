import type { z } from "zod";

/**
 * Turns zod issues into one line that names each offending field, e.g.
 * `file_path: required; view_range: expected array, received string`. Parse with `{ reportInput: true }`
 * so a missing field (no `input`) reads "required" rather than "received undefined".
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${formatPath(issue.path)}: ${describe(issue)}`).join("; ");
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(input)";
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out.startsWith("[") ? `(input)${out}` : out;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.input === undefined) return "required";
  const text = issue.message.replace(/^Invalid (input|option): /, "");
  return text.charAt(0).toLowerCase() + text.slice(1);
}
