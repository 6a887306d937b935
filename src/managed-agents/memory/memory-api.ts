/**
 * Calls on a memory store (`/v1/memory_stores/{id}/memories[/{mid}]`, memory beta), with the work's
 * sessions token (the API refuses the environment key here). Answers that are outcomes of a sync,
 * not failures, come back as values: a create that finds the path taken (409), an update whose
 * `content_sha256` precondition failed (412), a memory gone meanwhile (404).
 */

import { parseInput } from "../../validation/parse-input.ts";
import { type ApiCredentials, callApi, MEMORY_BETA, type RetryPolicy } from "../api-client.ts";
import { type Memory, MemoryListSchema, MemorySchema } from "../protocol.ts";

export interface MemoryCalls {
  credentials: ApiCredentials;
  signal?: AbortSignal;
  retry?: RetryPolicy;
}

/** A sync runs every few seconds: retry briefly, the next sync tries again anyway. */
export const MEMORY_RETRY: RetryPolicy = { withinMs: 10_000, baseMs: 500, capMs: 4000 };
const PAGE_SIZE = 100;
/** Stops paging a store that never ends (a misbehaving API must not loop the runner). */
const MAX_PAGES = 1000;

const memoriesPath = (storeId: string) => `/v1/memory_stores/${encodeURIComponent(storeId)}/memories`;
const memoryPath = (storeId: string, id: string) => `${memoriesPath(storeId)}/${encodeURIComponent(id)}`;

async function send(
  calls: MemoryCalls,
  method: "GET" | "POST" | "DELETE",
  path: string,
  options: { body?: unknown; query?: Record<string, string | number | undefined>; expect?: number[] } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await callApi(calls.credentials, {
    method,
    path,
    betas: [MEMORY_BETA],
    retry: calls.retry ?? MEMORY_RETRY,
    ...options,
    ...(calls.signal ? { signal: calls.signal } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}

export async function listMemories(calls: MemoryCalls, storeId: string): Promise<Memory[]> {
  const memories: Memory[] = [];
  let page: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const { body } = await send(calls, "GET", memoriesPath(storeId), { query: { limit: PAGE_SIZE, page } });
    const list = parseInput(MemoryListSchema, body, "memory list");
    memories.push(...list.data);
    if (!list.next_page) return memories;
    page = list.next_page;
  }
  throw new Error(`memory store ${storeId} lists more than ${MAX_PAGES} pages`);
}

/** The memory with its content, or null when it is gone. */
export async function getMemory(calls: MemoryCalls, storeId: string, id: string): Promise<Memory | null> {
  const { status, body } = await send(calls, "GET", memoryPath(storeId, id), { expect: [404] });
  return status === 404 ? null : parseInput(MemorySchema, body, "memory");
}

/** The new memory, or `"exists"` when the store refuses with 409 (the path is taken, or the store is full). */
export async function createMemory(
  calls: MemoryCalls,
  storeId: string,
  input: { path: string; content: string },
): Promise<Memory | "exists"> {
  const { status, body } = await send(calls, "POST", memoriesPath(storeId), { body: input, expect: [409] });
  return status === 409 ? "exists" : parseInput(MemorySchema, body, "memory");
}

/** Replaces the content if the memory still has `expectedSha256`. */
export async function updateMemory(
  calls: MemoryCalls,
  storeId: string,
  id: string,
  content: string,
  expectedSha256: string,
): Promise<Memory | "precondition_failed" | "gone"> {
  const { status, body } = await send(calls, "POST", memoryPath(storeId, id), {
    body: { content, content_sha256: expectedSha256 },
    expect: [404, 412],
  });
  if (status === 412) return "precondition_failed";
  if (status === 404) return "gone";
  return parseInput(MemorySchema, body, "memory");
}

/** Deletes the memory; one already gone is not an error. */
export async function deleteMemory(calls: MemoryCalls, storeId: string, id: string): Promise<void> {
  await send(calls, "DELETE", memoryPath(storeId, id), { expect: [404] });
}
