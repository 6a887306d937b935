/**
 * Reads and validates a console form post (application/x-www-form-urlencoded), through the same
 * bounded, cached read as the CSRF check before the route (src/console/form-fields.ts).
 */
import { z } from "zod";
import { formFields } from "../../../src/console/form-fields.ts";
import { TetherError } from "../../../src/errors/tether-error.ts";
import { parseInput } from "../../../src/validation/parse-input.ts";
import type { ConsoleContext } from "./render.tsx";

export async function formBody<S extends z.ZodType>(c: ConsoleContext, schema: S, what: string): Promise<z.output<S>> {
  return parseInput(schema, await formFields(c, what), what);
}

const DeleteFormSchema = z.object({ confirm: z.string().max(100) });

/** A delete form's confirmation: the operator typed the tunnel's name (or the sandbox's id) again. */
export async function confirmDeletion(
  c: ConsoleContext,
  target: { kind: "tunnel" | "sandbox"; key: "name" | "id"; expected: string },
): Promise<void> {
  const { confirm } = await formBody(c, DeleteFormSchema, "delete request");
  if (confirm.trim() !== target.expected) {
    throw new TetherError(
      "bad_request",
      `to delete the ${target.kind}, type its ${target.key} "${target.expected}" in the confirmation field`,
    );
  }
}
