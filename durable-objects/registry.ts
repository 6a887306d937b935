import { DurableObject } from "cloudflare:workers";
import type { Env } from "../workers/env.ts";

/** Placeholder: replaced by the real registry. */
export class Registry extends DurableObject<Env> {}
