import { DurableObject } from "cloudflare:workers";
import type { Env } from "../workers/env.ts";

/** Placeholder: replaced by the real sandbox. */
export class Sandbox extends DurableObject<Env> {}
