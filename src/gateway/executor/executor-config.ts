/**
 * One executor's configuration (`--executor NAME=DIR`, or `executors.NAME` in the JSON config
 * file): where its sandboxes' workspaces live and how their processes run. Defaults are the safe
 * ones: bash, 16 live sandboxes, only HOME, PATH, LANG and TERM passed through from the gateway's
 * environment, no isolation (the README says what that means), and with bwrap no network.
 */

import { ExecutorIsolationSchema } from "../../protocol/executor-api.ts";
import * as z from "../../protocol/zod-mini.ts";

export const DEFAULT_EXECUTOR_SHELL = "/bin/bash";
export const DEFAULT_MAX_SESSIONS = 16;
export const DEFAULT_PASSED_ENV: readonly string[] = ["HOME", "PATH", "LANG", "TERM"];

const EnvNameSchema = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"));

export const ExecutorConfigSchema = z.strictObject({
  /** Parent of every sandbox's workspace (`DIR/<sandbox-id>/`); created when missing. */
  dir: z.string().check(z.minLength(1)),
  shell: z._default(z.string().check(z.minLength(1)), DEFAULT_EXECUTOR_SHELL),
  /** Sandboxes with a live shell at once; one more is refused until one ends. */
  maxSessions: z._default(z.int().check(z.positive(), z.maximum(1024)), DEFAULT_MAX_SESSIONS),
  /** Names of the gateway's environment variables a sandbox's processes see (values never leave the machine). */
  env: z._default(z.array(EnvNameSchema), [...DEFAULT_PASSED_ENV]),
  isolate: z._default(ExecutorIsolationSchema, "none"),
  /** With `isolate: "bwrap"` only: whether sandboxes reach the network. */
  network: z._default(z.enum(["off", "on"]), "off"),
});
export type ExecutorConfig = z.output<typeof ExecutorConfigSchema>;

export interface NamedExecutorConfig {
  name: string;
  executor: ExecutorConfig;
}
