import { DurableObject } from "cloudflare:workers";
import type { Env } from "../workers/env.ts";

/** One claimed Managed Agents work item (named by runnerName): lease, event stream, tool calls. */
export class SessionRunner extends DurableObject<Env> {}
