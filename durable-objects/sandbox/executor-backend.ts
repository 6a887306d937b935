/**
 * A gateway sandbox's backend: its files and tools live on a gateway's executor (a real machine
 * behind the tunnel), reached through the TunnelRelay's `executorRequest` with the executor wire
 * API (src/protocol/executor-api.ts). Bodies stream both ways (a 200 MiB upload is never held
 * here). The Sandbox object keeps what it keeps for edge sandboxes (queue, trace, activity,
 * tokens); this only speaks to the executor.
 *
 * Pinning: the first answer names the executor instance that holds the workspace; the sandbox
 * stores it (meta-store.ts) and every later request asks for that instance, so a sandbox never
 * wanders to another machine that announces the same executor name.
 *
 * Failures: no gateway serving the executor (none connected, or the pinned instance gone) is a
 * 503 with Retry-After for the files API and a prompt `is_error` result (error_kind
 * "gateway_unavailable") for tool calls; so is a gateway lost in the middle of a call.
 */

import { unwrap } from "../../src/errors/rpc-result.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import {
  ExecutorErrorBodySchema,
  ExecutorPutResultSchema,
  type ExecutorSandboxInfo,
  ExecutorSandboxInfoSchema,
  ExecutorToolLineSchema,
  executorPaths,
  FILE_MODE_HEADER,
} from "../../src/protocol/executor-api.ts";
import type { HeaderList } from "../../src/protocol/messages.ts";
import { normalizePath } from "../../src/sandbox/fs/paths.ts";
import type { OutputListener } from "../../src/sandbox/tools/context.ts";
import { WORKDIR } from "../../src/sandbox/tools/context.ts";
import { failure, type ToolErrorKind, type ToolOutcome } from "../../src/sandbox/tools/tool.ts";
import type { Env } from "../../workers/env.ts";
import { type ExecutorAnswer, executorUnavailable, NO_SUCH_TUNNEL } from "../tunnel-relay/executor-calls.ts";
import type { ExecutorPin } from "./meta-store.ts";
import type { PutResult } from "./staging.ts";

export interface GatewayTarget {
  tunnel: string;
  executor: string;
}

/** How long the admin view waits for the executor's figures before saying it could not get them. */
export const INFO_TIMEOUT_MS = 3_000;

export class ExecutorBackend {
  readonly #env: Env;
  readonly #sandboxId: string;
  readonly #target: GatewayTarget;
  readonly #shellEnv: Record<string, string>;
  readonly #pin: () => ExecutorPin | null;
  readonly #onPin: (pin: ExecutorPin) => void;

  constructor(
    env: Env,
    sandboxId: string,
    target: GatewayTarget,
    shellEnv: Record<string, string>,
    pin: { get: () => ExecutorPin | null; set: (pin: ExecutorPin) => void },
  ) {
    this.#env = env;
    this.#sandboxId = sandboxId;
    this.#target = target;
    this.#shellEnv = shellEnv;
    this.#pin = pin.get;
    this.#onPin = pin.set;
  }

  /**
   * Runs one tool on the executor: output lines reach `onOutput` as they come; aborting `signal`
   * cancels the request (the gateway resets the stream, the executor stops the tool). Never
   * throws: every failure is an `is_error` outcome naming its cause.
   */
  async runTool(name: string, input: unknown, onOutput: OutputListener, signal?: AbortSignal): Promise<ToolOutcome> {
    if (signal?.aborted) return failure("conflict", `${name}: the call was cancelled before it ran`);
    let response: Response;
    try {
      const body = new TextEncoder().encode(JSON.stringify({ input, env: this.#shellEnv }));
      response = await this.#send("POST", executorPaths.tool(this.#sandboxId, name), JSON_HEADERS, body);
      if (!response.ok) throw await executorError(response);
    } catch (error) {
      return this.#failureOutcome(error);
    }
    const reader = response.body?.getReader();
    if (!reader) return failure("internal", `${name}: the executor answered without a body`);
    const cancel = () => void reader.cancel(new Error("cancelled")).catch(() => {});
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      return await readToolLines(reader, onOutput, name, signal);
    } catch (error) {
      if (signal?.aborted) return failure("conflict", `${name}: the call was cancelled`);
      return this.#failureOutcome(error);
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
  }

  async putFile(path: string, body: ReadableStream<Uint8Array>, mode?: number): Promise<PutResult> {
    const headers: HeaderList = [["content-type", "application/octet-stream"]];
    if (mode !== undefined) headers.push([FILE_MODE_HEADER, mode.toString(8)]);
    const response = await this.#expectOk("PUT", executorPaths.file(this.#sandboxId, path), headers, body);
    return answerOf(ExecutorPutResultSchema, await response.json().catch(() => undefined), "PUT file");
  }

  /** Initial files of a create request (relative paths land in /workspace), written on the executor. */
  async writeInitialFiles(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      const target = path.startsWith("/") ? normalizePath(path) : normalizePath(`${WORKDIR}/${path}`);
      await this.putFile(target, new Blob([content]).stream());
    }
  }

  /** The file's bytes, streamed, with the executor's content-length. */
  async getFile(path: string): Promise<Response> {
    const answer = await this.#exchange("GET", executorPaths.file(this.#sandboxId, path), [], null);
    const response = answer.response;
    if (!response.ok) throw await executorError(response);
    const headers = new Headers({ "content-type": "application/octet-stream" });
    if (answer.contentLength !== null) headers.set("content-length", String(answer.contentLength));
    return new Response(response.body, { headers });
  }

  async deleteFile(path: string): Promise<void> {
    const response = await this.#expectOk("DELETE", executorPaths.file(this.#sandboxId, path), [], null);
    await response.body?.cancel();
  }

  async exportTar(): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#expectOk("GET", executorPaths.export(this.#sandboxId), [], null);
    return response.body ?? new Blob([]).stream();
  }

  /** The executor's figures (workspace size), or why they could not be had within INFO_TIMEOUT_MS. */
  async info(): Promise<{ info: ExecutorSandboxInfo | null; reason: string | null }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TetherError("timeout", `the executor did not answer within ${INFO_TIMEOUT_MS} ms`)),
        INFO_TIMEOUT_MS,
      );
    });
    try {
      return { info: await Promise.race([this.contact(), timeout]), reason: null };
    } catch (error) {
      return { info: null, reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether a gateway serving this sandbox's executor (its pinned instance, if any) is connected. */
  connected(): Promise<boolean> {
    return this.#relay().executorConnected(this.#target.executor, this.#pin()?.instance ?? null);
  }

  /** Asks the executor about the sandbox (first contact at creation: pins the instance; fails loudly). */
  async contact(): Promise<ExecutorSandboxInfo> {
    const response = await this.#expectOk("GET", executorPaths.sandbox(this.#sandboxId), [], null);
    return answerOf(ExecutorSandboxInfoSchema, await response.json().catch(() => undefined), "sandbox info");
  }

  /** Removes the workspace (best effort: the relay records a deletion it could not make). */
  async deleteWorkspace(): Promise<{ deleted: boolean; reason: string | null }> {
    const relay = this.#relay();
    return unwrap(
      await relay.deleteExecutorWorkspace(this.#target.executor, this.#pin()?.instance ?? null, this.#sandboxId),
    );
  }

  async #expectOk(
    method: string,
    path: string,
    headers: HeaderList,
    body: ReadableStream<Uint8Array> | Uint8Array | null,
  ): Promise<Response> {
    const response = await this.#send(method, path, headers, body);
    if (!response.ok) throw await executorError(response);
    return response;
  }

  async #send(
    method: string,
    path: string,
    headers: HeaderList,
    body: ReadableStream<Uint8Array> | Uint8Array | null,
  ): Promise<Response> {
    return (await this.#exchange(method, path, headers, body)).response;
  }

  /** One request through the tunnel's relay; pins the instance that answered. */
  async #exchange(
    method: string,
    path: string,
    headers: HeaderList,
    body: ReadableStream<Uint8Array> | Uint8Array | null,
  ): Promise<ExecutorAnswer> {
    const { tunnel, executor } = this.#target;
    const init = { sandboxId: this.#sandboxId, method, path, headers, body };
    const result = await this.#relay().executorRequest(executor, this.#pin()?.instance ?? null, init);
    if (!result.ok && result.error.code === "not_found" && result.error.message === NO_SUCH_TUNNEL) {
      throw new TetherError("not_found", `tunnel "${tunnel}" does not exist (this sandbox's backend)`);
    }
    if (!result.ok && result.error.code === "gateway_lost") {
      // Lost before it answered: to a files caller that is the same as no gateway, and worth a retry.
      throw executorUnavailable(tunnel, executor, this.#pin()?.instance ?? null);
    }
    const answer = unwrap(result);
    this.#onPin({ instance: answer.instance, gatewayId: answer.gatewayId });
    return answer;
  }

  #relay() {
    return this.#env.TUNNEL_RELAY.get(this.#env.TUNNEL_RELAY.idFromName(this.#target.tunnel));
  }

  /** A failure to reach the executor as a tool outcome; the gateway's absence says so by its kind. */
  #failureOutcome(error: unknown): ToolOutcome {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof TetherError && error.code === "no_gateway") return failure("gateway_unavailable", message);
    if (error instanceof TetherError && error.code !== "gateway_lost") return failure(error.code, message);
    // A broken answer stream (the gateway's socket closed under it) arrives as a plain error.
    const { tunnel, executor } = this.#target;
    return failure(
      "gateway_unavailable",
      `the gateway serving executor "${executor}" on tunnel "${tunnel}" was lost during the call: ${message}`,
    );
  }
}

const JSON_HEADERS: HeaderList = [["content-type", "application/json"]];

/** Reads the executor's NDJSON answer: output lines to `onOutput`, then the outcome line. */
async function readToolLines(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  onOutput: OutputListener,
  name: string,
  signal?: AbortSignal,
): Promise<ToolOutcome> {
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (signal?.aborted) return failure("conflict", `${name}: the call was cancelled`);
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      const parsed = ExecutorToolLineSchema.safeParse(parseJson(line));
      if (!parsed.success) {
        throw new TetherError("upstream_unavailable", `${name}: the executor sent a line that is not a tool line`);
      }
      const item = parsed.data;
      if (item.type === "output") {
        onOutput(item.stream, item.text);
        continue;
      }
      await reader.cancel().catch(() => {});
      // The executor runs the same tools (src/sandbox/tools), so its error kinds are theirs.
      const { errorKind, ...rest } = item.outcome;
      return errorKind === undefined ? rest : { ...rest, errorKind: errorKind as ToolErrorKind };
    }
  }
  throw new TetherError("gateway_lost", `${name}: the executor's answer ended before the tool's outcome`);
}

/** An executor's JSON answer checked against the wire API; anything else is the executor's fault (502). */
function answerOf<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  value: unknown,
  what: string,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new TetherError("upstream_unavailable", `the executor's ${what} answer is malformed`);
  return parsed.data;
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** An executor's refusal (ExecutorErrorBody) as the TetherError it stands for. */
async function executorError(response: Response): Promise<TetherError> {
  const text = await response.text().catch(() => "");
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: described by its status below
  }
  const parsed = ExecutorErrorBodySchema.safeParse(body);
  if (!parsed.success) {
    return new TetherError("upstream_unavailable", `the executor answered ${response.status}: ${text.slice(0, 200)}`);
  }
  const { code, message } = parsed.data.error;
  return new TetherError(isErrorCode(code) ? code : "upstream_unavailable", message, {
    headers: retryAfterOf(response),
  });
}

const ERROR_CODES = new Set<string>([
  "bad_request",
  "not_found",
  "conflict",
  "payload_too_large",
  "quota_exceeded",
  "over_capacity",
  "timeout",
  "internal",
  "upstream_unavailable",
]);

function isErrorCode(code: string): code is TetherError["code"] {
  return ERROR_CODES.has(code);
}

function retryAfterOf(response: Response): Record<string, string> {
  const retry = response.headers.get("retry-after");
  return retry === null ? {} : { "Retry-After": retry };
}
