/**
 * One MCP session served by one stdio child: the SDK's Streamable HTTP server transport faces the
 * client, the child's stdin/stdout face the server, and raw JSON-RPC messages cross unchanged.
 *
 * State (memory only): the child process, the transport (its request → stream table), the message
 * router (client requests in flight, progress tokens, the server's pending requests), the
 * standalone GET stream with its queue, the replay buffer of recent events (bounded; a client that
 * lost a stream resumes it with `Last-Event-ID`), and an idle timer that runs only while nothing is
 * in flight.
 *
 * Lifecycle: `start` spawns the child → the first request (initialize) opens the transport → ...
 * → `end(reason)` once: the child exited or died, the client sent DELETE, the session idled out,
 * or the upstream closed. Ending answers every request still in flight with a JSON-RPC error
 * naming the reason, closes all streams, removes the session (later requests get 404), frees
 * the replay buffer and stops the child and its process group.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";
import { jsonRpcErrorResponse } from "../../errors/error-response.ts";
import { TetherError } from "../../errors/tether-error.ts";
import { LAST_EVENT_ID, MCP_SESSION_ID, SSE_CONTENT_TYPE } from "../../mcp/headers.ts";
import { type ChildSpec, MAX_MESSAGE_BYTES, StdioChild } from "./child-process.ts";
import { MessageRouter } from "./message-router.ts";
import { type ReplayBounds, ReplayBuffer } from "./replay-buffer.ts";
import { StandaloneStream } from "./standalone-stream.ts";

export type MessageDirection = "client-to-server" | "server-to-client";

export interface ChildSessionOptions extends ChildSpec {
  id: string;
  idleTimeoutMs: number;
  killGraceMs: number;
  replay: ReplayBounds;
  log: (line: string) => void;
  /** Sees every message that crosses (for traces and debugging). */
  onMessage?: (sessionId: string, direction: MessageDirection, message: JSONRPCMessage) => void;
  /** Called once when the session ends, before its child is stopped. */
  onEnd: (session: ChildSession) => void;
}

export interface ChildSessionInfo {
  id: string;
  pid: number;
  startedAt: number;
  lastActiveAt: number;
  inFlight: number;
  /** Events (and their bytes) kept for clients that resume a broken stream. */
  replay: { events: number; bytes: number };
}

/** The SDK transport's name for the standalone GET stream (the stream id its event ids belong to). */
const STANDALONE_STREAM_ID = "_GET_stream";
const encoder = new TextEncoder();

export class ChildSession {
  readonly id: string;
  readonly startedAt = Date.now();
  readonly #options: ChildSessionOptions;
  readonly #child: StdioChild;
  readonly #transport: WebStandardStreamableHTTPServerTransport;
  readonly #router = new MessageRouter();
  readonly #replay: ReplayBuffer;
  readonly #standalone: StandaloneStream;
  /** Messages from the child, delivered one after another so their order survives async sends. */
  #outbound: Promise<void> = Promise.resolve();
  #lastActiveAt = Date.now();
  #idleTimer: NodeJS.Timeout | undefined;
  #endReason: string | undefined;
  #ended: Promise<void> | undefined;

  private constructor(options: ChildSessionOptions, child: StdioChild) {
    this.id = options.id;
    this.#options = options;
    this.#child = child;
    this.#replay = new ReplayBuffer(options.replay);
    this.#transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => options.id,
      maxRequestBodySize: MAX_MESSAGE_BYTES,
      eventStore: this.#replay,
    });
    this.#transport.onmessage = (message) => this.#fromClient(message);
    // DELETE closes the transport; every other close comes from `end`, which is idempotent.
    this.#transport.onclose = () => void this.end(`MCP session of stdio server '${options.name}' was deleted`);
    this.#standalone = new StandaloneStream(
      (message) => this.#transport.send(message),
      (line) => options.log(`[${options.name}] ${line}`),
    );
    void child.exited.then((exit) => this.end(exit.reason));
    this.#armIdleTimer();
  }

  /** Spawns the child; rejects with an "upstream_unavailable" TetherError if it cannot start. */
  static async start(options: ChildSessionOptions): Promise<ChildSession> {
    let session: ChildSession | undefined;
    const early: JSONRPCMessage[] = [];
    const child = await StdioChild.spawn(options, {
      log: options.log,
      onMessage: (message) => (session ? session.#fromChild(message) : early.push(message)),
    });
    session = new ChildSession(options, child);
    for (const message of early) session.#fromChild(message);
    return session;
  }

  get endReason(): string | undefined {
    return this.#endReason;
  }

  info(): ChildSessionInfo {
    return {
      id: this.id,
      pid: this.#child.pid,
      startedAt: this.startedAt,
      lastActiveAt: this.#lastActiveAt,
      inFlight: this.#router.inFlightCount,
      replay: this.#replay.size,
    };
  }

  /** Serves one HTTP request of this session. `parsedBody` is set when the caller already read it. */
  async handle(request: Request, parsedBody?: unknown): Promise<Response> {
    this.#touch();
    if (request.method === "GET") return this.#handleGet(request);
    const response = await this.#transport.handleRequest(
      request,
      parsedBody === undefined ? undefined : { parsedBody },
    );
    // The client learns of a DELETE only once the child is really gone.
    if (request.method === "DELETE" && response.ok) await this.#ended;
    return response;
  }

  /** Ends the session (see the class comment). Idempotent; resolves once the child is gone. */
  end(reason: string): Promise<void> {
    this.#ended ??= this.#finish(reason);
    return this.#ended;
  }

  async #finish(reason: string): Promise<void> {
    this.#endReason = reason;
    clearTimeout(this.#idleTimer);
    this.#options.onEnd(this);
    const error = new TetherError("upstream_unavailable", reason);
    await this.#outbound;
    await Promise.allSettled(this.#router.inFlightIds().map((id) => this.#sendError(id, error)));
    await this.#transport.close();
    this.#replay.clear();
    await this.#child.stop(this.#options.killGraceMs, reason);
  }

  async #handleGet(request: Request): Promise<Response> {
    const lastEventId = request.headers.get(LAST_EVENT_ID);
    if (lastEventId !== null) return this.#resume(request, lastEventId);
    let response = await this.#transport.handleRequest(request);
    if (response.status === 409) {
      // The only reason the transport refuses a valid GET: another GET stream is open. The newer wins.
      await response.body?.cancel();
      this.#transport.closeStandaloneSSEStream();
      response = await this.#transport.handleRequest(request);
    }
    return response.ok ? this.#standalone.attach(response) : response;
  }

  /**
   * A reconnect with `Last-Event-ID`: replays what was sent after that event on the stream it
   * belongs to, and only that stream. A stream still in progress carries on live after the replay
   * (the transport re-attaches it); one whose response is already kept ends after the replay.
   * The spec leaves replay optional and forbids mixing streams, so a cursor this session no longer
   * keeps is refused (400) rather than answered with a stream that would silently skip messages.
   */
  async #resume(request: Request, lastEventId: string): Promise<Response> {
    const cursor = this.#replay.cursor(lastEventId);
    if (!cursor) {
      const { maxEvents, maxBytes } = this.#options.replay;
      return jsonRpcErrorResponse(
        new TetherError(
          "bad_request",
          `cannot resume from event ${JSON.stringify(lastEventId.slice(0, 40))}: stdio server '${this.#options.name}' ` +
            `no longer keeps it (a session keeps its last ${maxEvents} events, at most ${maxBytes} bytes)`,
        ),
      );
    }
    if (cursor.complete && request.headers.get("accept")?.includes(SSE_CONTENT_TYPE)) {
      return this.#replayed(lastEventId);
    }
    const response = await this.#transport.handleRequest(request);
    if (!response.ok) return response;
    if (cursor.streamId === STANDALONE_STREAM_ID) return this.#standalone.attach(response);
    // The call may have finished while the transport replayed; its stream would then stay open
    // with nothing left to say. Nobody has read it yet: serve the finished stream whole instead.
    if (this.#replay.cursor(lastEventId)?.complete) {
      await response.body?.cancel();
      return this.#replayed(lastEventId);
    }
    return response;
  }

  /** A finished stream's missed events (its response last), as a complete SSE response. */
  #replayed(lastEventId: string): Response {
    const events = this.#replay
      .eventsAfter(lastEventId)
      .map(({ eventId, message }) => `event: message\nid: ${eventId}\ndata: ${JSON.stringify(message)}\n\n`);
    return new Response(encoder.encode(events.join("")), {
      headers: { "content-type": SSE_CONTENT_TYPE, "cache-control": "no-cache", [MCP_SESSION_ID]: this.id },
    });
  }

  #fromClient(message: JSONRPCMessage): void {
    this.#touch();
    this.#options.onMessage?.(this.id, "client-to-server", message);
    const cancelled = this.#router.fromClient(message);
    if (this.#ended || !this.#child.send(message)) {
      // The child is gone: a request must still get its answer, at once.
      if ("method" in message && "id" in message) {
        void this.#sendError(message.id, new TetherError("upstream_unavailable", this.#deadReason()));
      }
    }
    // The client stopped waiting and the server will not answer: end that request's stream now
    // rather than keep it open (with keep-alives) for the rest of the session.
    if (cancelled !== undefined) this.#transport.closeSSEStream(cancelled);
    this.#armIdleTimer();
  }

  #fromChild(message: JSONRPCMessage): void {
    this.#options.onMessage?.(this.id, "server-to-client", message);
    this.#outbound = this.#outbound
      .then(() => this.#deliver(message))
      .catch((error: unknown) => this.#options.log(`[${this.#options.name}] could not relay a message: ${error}`));
  }

  async #deliver(message: JSONRPCMessage): Promise<void> {
    const destination = this.#router.toClient(message);
    if (destination.kind === "drop") return;
    if (destination.kind === "standalone") return this.#standalone.deliver(message);
    const isResponse = !("method" in message);
    try {
      await this.#transport.send(message, { relatedRequestId: destination.requestId });
    } catch {
      // That request's stream is gone (client disconnected or cancelled). A response has nowhere
      // else to go; a notification or server request may still reach the client on the GET stream.
      if (!isResponse) await this.#standalone.deliver(message);
    }
    if (isResponse) this.#armIdleTimer();
  }

  /** Answers a client request with an error, as if the server had (so the router forgets it too). */
  async #sendError(id: RequestId, error: TetherError): Promise<void> {
    const message: JSONRPCMessage = {
      jsonrpc: "2.0",
      id,
      error: { code: error.jsonRpcCode, message: error.message, data: { code: error.code } },
    };
    this.#router.toClient(message);
    try {
      await this.#transport.send(message);
    } catch {
      // Its stream is already gone.
    }
  }

  #deadReason(): string {
    return this.#endReason ?? this.#child.exit?.reason ?? `stdio server '${this.#options.name}' is not running`;
  }

  #touch(): void {
    this.#lastActiveAt = Date.now();
  }

  /** Idle = nothing in flight for `idleTimeoutMs` (an open GET stream alone does not keep a child). */
  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#ended || this.#router.inFlightCount > 0) return;
    const ms = this.#options.idleTimeoutMs;
    this.#idleTimer = setTimeout(() => {
      void this.end(`MCP session of stdio server '${this.#options.name}' was idle for ${ms} ms`);
    }, ms);
    this.#idleTimer.unref();
  }
}
