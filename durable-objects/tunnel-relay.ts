import { DurableObject } from "cloudflare:workers";
import type { Env } from "../workers/env.ts";

/** Placeholder: replaced by the real relay. */
export class TunnelRelay extends DurableObject<Env> {}
