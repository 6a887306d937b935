/** The Sandbox object of an id, for the edge's routes (sandbox API, admin API, console). */

import { noSuchSandbox } from "../../durable-objects/sandbox/caller.ts";
import { SANDBOX_ID_PATTERN } from "../../durable-objects/sandbox/options.ts";
import type { Sandbox } from "../../durable-objects/sandbox.ts";
import type { Env } from "../env.ts";

export function sandboxStub(env: Env, id: string): DurableObjectStub<Sandbox> {
  return env.SANDBOX.get(env.SANDBOX.idFromName(id));
}

/** The object of an id that can exist; one that cannot is the usual not-found, without touching storage. */
export function namedSandboxStub(env: Env, id: string): DurableObjectStub<Sandbox> {
  if (!SANDBOX_ID_PATTERN.test(id)) throw noSuchSandbox();
  return sandboxStub(env, id);
}
