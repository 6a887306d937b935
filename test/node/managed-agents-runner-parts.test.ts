import { describe, expect, test } from "vitest";
import { gate } from "../../durable-objects/session-runner/call-gate.ts";
import {
  credentialKind,
  environmentCredentials,
  workCredentials,
} from "../../src/managed-agents/runner/credentials.ts";
import { isReadOnlyTool, ownsTool } from "../../src/managed-agents/runner/sandbox-tools.ts";
import { type SseFrame, sseFrames } from "../../src/managed-agents/runner/sse-frames.ts";
import { heartbeatIntervalMs, reconnectDelayMs } from "../../src/managed-agents/runner/timings.ts";
import { interruptedResult, toolResultEvent } from "../../src/managed-agents/runner/tool-result.ts";

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function frames(chunks: string[]): Promise<SseFrame[]> {
  const out: SseFrame[] = [];
  for await (const frame of sseFrames(body(chunks))) out.push(frame);
  return out;
}

describe("SSE frames of the event stream", () => {
  test("frames split anywhere (even inside a UTF-8 character) are put back together", async () => {
    const text = 'event: agent.tool_use\ndata: {"name":"é"}\n\nevent: ping\ndata: {}\n\n';
    const bytes = new TextEncoder().encode(text);
    const decoder = new TextDecoder();
    const inside = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
    const pieces = [bytes.slice(0, 10), bytes.slice(10, inside), bytes.slice(inside)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of pieces) controller.enqueue(piece);
        controller.close();
      },
    });
    const out: SseFrame[] = [];
    for await (const frame of sseFrames(stream)) out.push(frame);
    expect(decoder.decode(bytes)).toBe(text);
    expect(out).toEqual([
      { event: "agent.tool_use", data: '{"name":"é"}' },
      { event: "ping", data: "{}" },
    ]);
  });

  test("frames without event: are dropped; CRLF, comments and multi-line data are handled", async () => {
    expect(
      await frames([
        'data: {"no":"event"}\n\n',
        ": a comment\r\nevent: error\r\ndata: line one\r\ndata: line two\r\n\r\n",
        "event: session.deleted\ndata: {}\n\nevent: partial",
      ]),
    ).toEqual([
      { event: "error", data: "line one\nline two" },
      { event: "session.deleted", data: "{}" },
    ]);
  });

  test("a broken connection ends the frames with its error", async () => {
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        // The error comes after the frame was read (erroring at once would discard what is queued).
        pull(controller) {
          if (pulls++ === 0) controller.enqueue(new TextEncoder().encode("event: a\ndata: 1\n\n"));
          else controller.error(new Error("connection reset"));
        },
      },
      { highWaterMark: 0 },
    );
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const frame of sseFrames(stream)) seen.push(frame.event);
      })(),
    ).rejects.toThrow("connection reset");
    expect(seen).toEqual(["a"]);
  });
});

describe("permission gate (protocol §4)", () => {
  test.each([
    ["allow", undefined, "run"],
    ["deny", undefined, "deny"],
    ["deny", "allow", "deny"],
    ["ask", undefined, "hold"],
    ["ask", "allow", "run"],
    ["ask", "deny", "deny"],
    ["ask", "perhaps", "deny"],
    ["sometimes", undefined, "hold"],
    ["sometimes", "allow", "run"],
  ] as const)("%s with verdict %s → %s", (permission, verdict, decision) => {
    expect(gate(permission, verdict)).toBe(decision);
  });
});

describe("timings (protocol §8)", () => {
  test("heartbeats every clamp(ttl/2, 1, 30) s, 90 s assumed until known", () => {
    expect(heartbeatIntervalMs(null)).toBe(30_000);
    expect(heartbeatIntervalMs(10)).toBe(5000);
    expect(heartbeatIntervalMs(1)).toBe(1000);
    expect(heartbeatIntervalMs(300)).toBe(30_000);
  });

  test("stream reconnects after 0.5 s doubling up to 10 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map(reconnectDelayMs)).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
  });
});

describe("credentials (protocol §0)", () => {
  const source = {
    apiBaseUrl: "https://api.example",
    environmentKey: "sk-ant-oat01-key",
    sessionsToken: "sk-ant-req-token",
    tokenBaseUrl: "https://other.example",
  };

  test("the sessions token and its base URL for the work's calls, the key for ack", () => {
    expect(environmentCredentials(source)).toEqual({ baseUrl: "https://api.example", bearer: "sk-ant-oat01-key" });
    expect(workCredentials(source)).toEqual({ baseUrl: "https://other.example", bearer: "sk-ant-req-token" });
    expect(workCredentials({ ...source, tokenBaseUrl: null }).baseUrl).toBe("https://api.example");
    expect(workCredentials({ ...source, sessionsToken: null })).toEqual(environmentCredentials(source));
  });

  test("a refusal names the kind of credential, never the credential", () => {
    const kind = credentialKind(source, "/v1/sessions/sesn_1/events");
    expect(kind).toBe("the work item's sessions token");
    expect(credentialKind(source, "/v1/environments/env_1/work/work_1/ack")).toBe("the environment key");
    expect(credentialKind(source, "/v1/environments/env_1/work/work_1/heartbeat")).toBe(kind);
    expect(credentialKind({ ...source, sessionsToken: null }, "/v1/sessions/sesn_1")).toBe("the environment key");
    expect(kind).not.toContain("sk-ant");
  });
});

describe("tool results (protocol §3, §5)", () => {
  test("the toolset's names are owned; read, glob and grep are the read-only ones", () => {
    expect(["bash", "read", "write", "edit", "glob", "grep"].every(ownsTool)).toBe(true);
    expect(["web_fetch", "str_replace_based_edit_tool", "run_code", "lookup"].some(ownsTool)).toBe(false);
    expect(["bash", "read", "write", "edit", "glob", "grep"].filter(isReadOnlyTool)).toEqual(["read", "glob", "grep"]);
  });

  test("empty output is sent as (no output); an interrupted call names its tool", () => {
    expect(toolResultEvent("sevt_1", { content: [{ type: "text", text: "" }], is_error: false })).toEqual({
      type: "user.tool_result",
      tool_use_id: "sevt_1",
      content: [{ type: "text", text: "(no output)" }],
      is_error: false,
    });
    expect(interruptedResult("write").content[0]?.text).toMatch(/^write: interrupted: the worker restarted/);
    expect(interruptedResult("write").is_error).toBe(true);
  });
});
