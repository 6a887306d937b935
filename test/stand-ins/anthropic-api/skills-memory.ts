/**
 * Skills (`/v1/skills/{id}/versions[/{v}[/content]]`) and memory stores
 * (`/v1/memory_stores/{id}/memories[/{mid}]`) in the stand-in. Skill content is whatever bytes the
 * test registers (a zip it builds). Memory updates honour a `content_sha256` precondition: a stale
 * hash is refused with 412 and the memory is left as it was (the status is the stand-in's choice;
 * the protocol document names only the field).
 */
import { createHash } from "node:crypto";
import type { Memory, MemoryCreate, MemoryUpdate, SkillVersion } from "../../../src/managed-agents/protocol.ts";
import type { StandInClock } from "./clock.ts";
import { ApiError, type IdSource, notFound } from "./http.ts";

const MAX_MEMORIES_PER_STORE = 1000;

export interface SkillVersionRecord {
  version: string;
  name: string;
  content: Uint8Array;
  createdAt: number;
}

export class Skills {
  #skills = new Map<string, SkillVersionRecord[]>();

  private readonly clock: StandInClock;

  constructor(clock: StandInClock) {
    this.clock = clock;
  }

  /** Registers a version; the last one added is `latest`. */
  add(skillId: string, version: string, name: string, content: Uint8Array): void {
    const versions = this.#skills.get(skillId) ?? [];
    versions.push({ version, name, content, createdAt: this.clock.now() });
    this.#skills.set(skillId, versions);
  }

  /** Newest first, so the first entry is what `latest` resolves to. */
  versions(skillId: string): SkillVersion[] {
    const versions = this.#skills.get(skillId);
    if (!versions) throw notFound(`skill ${skillId}`);
    return [...versions].reverse().map((v) => this.#json(skillId, v));
  }

  version(skillId: string, version: string): SkillVersion {
    return this.#json(skillId, this.#find(skillId, version));
  }

  content(skillId: string, version: string): Uint8Array {
    return this.#find(skillId, version).content;
  }

  #find(skillId: string, version: string): SkillVersionRecord {
    const versions = this.#skills.get(skillId);
    const found = version === "latest" ? versions?.at(-1) : versions?.find((v) => v.version === version);
    if (!found) throw notFound(`skill ${skillId} version ${version}`);
    return found;
  }

  #json(skillId: string, v: SkillVersionRecord): SkillVersion {
    return {
      type: "skill_version",
      skill_id: skillId,
      version: v.version,
      name: v.name,
      created_at: new Date(v.createdAt).toISOString(),
    };
  }
}

export const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

export class MemoryStores {
  #stores = new Map<string, Map<string, Memory>>();

  private readonly clock: StandInClock;
  private readonly ids: IdSource;

  constructor(clock: StandInClock, ids: IdSource) {
    this.clock = clock;
    this.ids = ids;
  }

  createStore(): string {
    const id = this.ids.make("memstore");
    this.#stores.set(id, new Map());
    return id;
  }

  list(storeId: string): Memory[] {
    return [...this.#store(storeId).values()];
  }

  create(storeId: string, input: MemoryCreate): Memory {
    const store = this.#store(storeId);
    if (store.size >= MAX_MEMORIES_PER_STORE) throw new ApiError(409, "invalid_request_error", "memory store is full");
    if ([...store.values()].some((m) => m.path === input.path)) {
      throw new ApiError(409, "invalid_request_error", `a memory already exists at ${input.path}`);
    }
    const now = new Date(this.clock.now()).toISOString();
    const memory: Memory = {
      type: "memory",
      id: this.ids.make("mem"),
      memory_store_id: storeId,
      path: input.path,
      content: input.content,
      content_sha256: sha256Hex(input.content),
      created_at: now,
      updated_at: now,
    };
    store.set(memory.id, memory);
    return memory;
  }

  get(storeId: string, memoryId: string): Memory {
    const memory = this.#store(storeId).get(memoryId);
    if (!memory) throw notFound(`memory ${memoryId}`);
    return memory;
  }

  update(storeId: string, memoryId: string, input: MemoryUpdate): Memory {
    const memory = this.get(storeId, memoryId);
    if (input.content_sha256 !== undefined && input.content_sha256 !== memory.content_sha256) {
      throw new ApiError(412, "invalid_request_error", "content_sha256 does not match the memory", {
        error_code: "content_sha256_mismatch",
        current_content_sha256: memory.content_sha256,
      });
    }
    if (input.path !== undefined) memory.path = input.path;
    if (input.content !== undefined) {
      memory.content = input.content;
      memory.content_sha256 = sha256Hex(input.content);
    }
    memory.updated_at = new Date(this.clock.now()).toISOString();
    return memory;
  }

  delete(storeId: string, memoryId: string): { type: "memory_deleted"; id: string } {
    this.get(storeId, memoryId);
    this.#store(storeId).delete(memoryId);
    return { type: "memory_deleted", id: memoryId };
  }

  #store(storeId: string): Map<string, Memory> {
    const store = this.#stores.get(storeId);
    if (!store) throw notFound(`memory store ${storeId}`);
    return store;
  }
}
