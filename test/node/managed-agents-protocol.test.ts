import { describe, expect, test } from "vitest";
import {
  decodeWorkSecret,
  encodeWorkSecret,
  HeartbeatQuerySchema,
  PollQuerySchema,
  SessionEventSchema,
  SessionSchema,
  WorkSchema,
} from "../../src/managed-agents/protocol.ts";

const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

describe("Managed Agents wire schemas", () => {
  test("the work secret is base64url JSON with or without padding; bad ones never echo the secret", () => {
    const json = JSON.stringify({ sessions_token: "sk-ant-req-abc?>", api_base_url: "https://api.example.test" });
    const unpadded = base64url(json);
    expect(unpadded).not.toContain("=");
    const padded = unpadded.padEnd(Math.ceil(unpadded.length / 4) * 4, "=");
    for (const secret of [unpadded, padded]) {
      expect(decodeWorkSecret(secret)).toEqual({
        sessions_token: "sk-ant-req-abc?>",
        api_base_url: "https://api.example.test",
      });
    }
    expect(decodeWorkSecret(encodeWorkSecret({ sessions_token: "t" }))).toEqual({ sessions_token: "t" });
    const bad = [
      "not base64 at all!",
      base64url("not json"),
      base64url("{}"),
      base64url('{"sessions_token":""}'),
      base64url('{"sessions_token":"t","api_base_url":"file:///etc"}'),
    ];
    for (const secret of bad) {
      expect(() => decodeWorkSecret(secret)).toThrow(/work secret/);
      try {
        decodeWorkSecret(secret);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
        expect(error).toMatchObject({ status: 400 });
      }
    }
  });

  test("queries: block_ms 1–999 only, expected_last_heartbeat required", () => {
    expect(PollQuerySchema.parse({ block_ms: "999", reclaim_older_than_ms: "0" })).toEqual({
      block_ms: 999,
      reclaim_older_than_ms: 0,
    });
    expect(PollQuerySchema.parse({})).toEqual({});
    for (const block_ms of ["0", "1000", "1.5", "x", ""])
      expect(PollQuerySchema.safeParse({ block_ms }).success).toBe(false);
    expect(HeartbeatQuerySchema.safeParse({}).success).toBe(false);
    expect(HeartbeatQuerySchema.parse({ expected_last_heartbeat: "NO_HEARTBEAT" })).toEqual({
      expected_last_heartbeat: "NO_HEARTBEAT",
    });
  });

  test("work for something other than a session parses as other; extra fields are kept", () => {
    const work = { type: "work", id: "work_1", environment_id: "env_1", state: "queued", extra: 1 };
    expect(WorkSchema.parse({ ...work, data: { type: "session", id: "sesn_1" } }).data).toEqual({
      type: "session",
      id: "sesn_1",
    });
    expect(WorkSchema.parse({ ...work, data: { type: "healthcheck" } }).data).toEqual({
      type: "other",
      data_type: "healthcheck",
    });
    expect(WorkSchema.safeParse({ ...work, data: { type: "session" } }).success).toBe(false);
    expect(WorkSchema.safeParse({ ...work, state: "lost", data: { type: "session", id: "s" } }).success).toBe(false);
  });

  test("session events: known types are checked, unknown types become other, stop reasons are read", () => {
    expect(
      SessionEventSchema.parse({
        type: "agent.tool_use",
        id: "sevt_1",
        name: "bash",
        input: { command: "ls" },
        evaluated_permission: "ask",
      }),
    ).toMatchObject({ type: "agent.tool_use", evaluated_permission: "ask" });
    expect(SessionEventSchema.safeParse({ type: "agent.tool_use", id: "sevt_1", input: {} }).success).toBe(false);
    expect(SessionEventSchema.parse({ type: "span.model_request_start", id: "sevt_2", x: 1 })).toEqual({
      type: "other",
      event_type: "span.model_request_start",
      id: "sevt_2",
    });
    expect(
      SessionEventSchema.parse({
        type: "session.status_idle",
        id: "sevt_3",
        stop_reason: { type: "requires_action", event_ids: ["sevt_1"] },
      }),
    ).toMatchObject({ stop_reason: { type: "requires_action", event_ids: ["sevt_1"] } });
    expect(
      SessionEventSchema.parse({ type: "session.status_idle", id: "sevt_4", stop_reason: { type: "budget_reached" } }),
    ).toMatchObject({ stop_reason: { type: "budget_reached" } });
    expect(
      SessionEventSchema.safeParse({
        type: "session.status_idle",
        id: "sevt_5",
        stop_reason: { type: "requires_action" },
      }).success,
    ).toBe(false);
    expect(
      SessionEventSchema.parse({
        type: "user.tool_confirmation",
        id: "sevt_6",
        tool_use_id: "sevt_1",
        result: "maybe",
      }),
    ).toMatchObject({ result: "maybe" });
  });

  test("sessions: skills and memory stores are read, other resources are other", () => {
    const session = SessionSchema.parse({
      id: "sesn_1",
      agent: { skills: [{ skill_id: "s", version: "latest" }], model: "x" },
      resources: [
        { type: "memory_store", memory_store_id: "m", access: "read_only", mount_path: "/mnt/memory/m" },
        { type: "file", file_id: "f" },
      ],
    });
    expect(session.resources).toEqual([
      { type: "memory_store", memory_store_id: "m", access: "read_only", mount_path: "/mnt/memory/m" },
      { type: "other", resource_type: "file" },
    ]);
  });
});
