/** Everything the stand-in holds, shared by its routes and its scripting API. */
import type { StandInClock } from "./clock.ts";
import type { Faults } from "./faults.ts";
import type { IdSource } from "./http.ts";
import type { Sessions } from "./sessions.ts";
import type { MemoryStores, Skills } from "./skills-memory.ts";
import type { WebhookSender, WebhookTarget } from "./webhooks.ts";
import type { WorkQueue } from "./work-queue.ts";

export interface EnvironmentRecord {
  id: string;
  /** The environment key (`sk-ant-oat01-…`) workers send as Bearer. */
  key: string;
  ttlSeconds: number;
  webhook: WebhookTarget | undefined;
}

/** One call the stand-in answered, for tests that check who called what. */
export interface CallRecord {
  method: string;
  path: string;
  status: number;
  principal: "environment" | "work" | null;
  workerId: string | null;
  /** When it was answered (the stand-in's clock, ms). */
  at: number;
}

export interface StandInState {
  clock: StandInClock;
  ids: IdSource;
  queue: WorkQueue;
  sessions: Sessions;
  skills: Skills;
  memory: MemoryStores;
  faults: Faults;
  webhooks: WebhookSender;
  environments: Map<string, EnvironmentRecord>;
  environmentKeys: Map<string, string>;
  sessionTokens: Map<string, string>;
  calls: CallRecord[];
}
