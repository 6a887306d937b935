/**
 * What the console reads of sandboxes, through the same RPCs as the admin API and the sandbox API
 * (as the admin caller): the Registry's ids, each sandbox's summary and details, its files.
 */
import { registry } from "../../../durable-objects/registry.ts";
import { noSuchSandbox } from "../../../durable-objects/sandbox/caller.ts";
import type { SandboxDetails, SandboxSummary } from "../../../durable-objects/sandbox/status.ts";
import type { Page } from "../../../src/audit/trace-query.ts";
import type { Env } from "../../env.ts";
import { namedSandboxStub } from "../sandbox-stubs.ts";

export const ADMIN_CALLER = { kind: "admin" } as const;

/** One page of sandboxes by id (`after`: the last id of the previous page); only that page's objects are asked. */
export async function listSandboxes(env: Env, after: string | null, limit: number): Promise<Page<SandboxSummary>> {
  const ids = (await registry(env).list("sandbox"))
    .map((entry) => entry.name)
    .filter((id) => after === null || id > after);
  const page = ids.slice(0, limit);
  const summaries = await Promise.all(page.map((id) => namedSandboxStub(env, id).summary()));
  return {
    rows: summaries.filter((summary) => summary !== null),
    next: ids.length > limit ? (page.at(-1) ?? null) : null,
  };
}

export async function sandboxDetails(env: Env, id: string): Promise<SandboxDetails> {
  const details = await namedSandboxStub(env, id).inspect();
  if (!details) throw noSuchSandbox();
  return details;
}
