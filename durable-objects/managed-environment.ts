import { DurableObject } from "cloudflare:workers";
import type { EnvironmentRunnerRpc, RunnerSummary } from "../src/managed-agents/runner-contract.ts";
import type { Env } from "../workers/env.ts";

/** One Managed Agents environment (named by its name): configuration, webhook, polling, live sessions. */
export class ManagedEnvironment extends DurableObject<Env> implements EnvironmentRunnerRpc {
  async runnerEnded(_workId: string, _summary: RunnerSummary): Promise<void> {}
  async credentialsRefused(_status: number, _message: string): Promise<void> {}
}
