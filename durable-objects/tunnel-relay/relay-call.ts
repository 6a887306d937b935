/**
 * One agent request relayed over one tunnel stream:
 *
 *   edge → gateway   Open, request body as DATA within the gateway's credit, END
 *   gateway → edge   Head → the agent's Response (its body is a TransformStream we write into),
 *                    DATA… (Credit granted back once written to the agent), END
 *
 * The response is never buffered whole: DATA beyond the window we granted is a protocol error,
 * and credit is only granted for bytes the agent's stream accepted. Every path ends in `#finish`
 * exactly once (END, Reset, connection lost, agent gone), which reports the call's outcome.
 *
 * A call that fails after Head cannot change its status any more. An event stream can still say
 * what happened: the caller's `failureEvent` (a JSON-RPC error answering the request) is written
 * as the stream's last event, between events only, and the stream then ends normally, so the
 * agent's call settles at once instead of waiting for an answer that will never come. Anything
 * else (a JSON body, a stream paused inside an event) is broken off with an error.
 */

import { asTetherError } from "../../src/errors/error-response.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { concatBytes } from "../../src/http/concat-bytes.ts";
import { hasMediaType, JSON_CONTENT_TYPE, SSE_CONTENT_TYPE } from "../../src/mcp/headers.ts";
import { describeJsonRpcFailure } from "../../src/mcp/response-info.ts";
import { CreditWindow } from "../../src/protocol/credit-window.ts";
import { encodeCreditFrame, encodeJsonFrame, FrameType } from "../../src/protocol/frames.ts";
import type { Head, Open, Reset } from "../../src/protocol/messages.ts";
import { sendBody } from "../../src/protocol/send-body.ts";
import { INITIAL_STREAM_WINDOW } from "../../src/protocol/version.ts";
import { agentResponseHeaders } from "./forward-headers.ts";
import type { GatewayConnection, StreamHandler } from "./gateway-connection.ts";
import { protocolError } from "./gateway-frames.ts";
import { resetError } from "./reset-error.ts";
import { SseBoundary, SseKeepAlive } from "./sse-keep-alive.ts";

/** Credit is granted back in batches of this size (never more than the window, so no deadlock). */
const CREDIT_BATCH = INITIAL_STREAM_WINDOW / 4;
/** How much of a JSON response is kept to find a JSON-RPC error for the trace. */
const SNIFF_LIMIT = 64 * 1024;
const NULL_BODY_STATUS = new Set([204, 205, 304]);

export interface CallOutcome {
  /** HTTP status the agent got; for failures before Head, the status of the error response. */
  status: number;
  error: string | null;
  bytesIn: number;
  bytesOut: number;
  startedAt: number;
  durationMs: number;
}

export interface RelayCallInit {
  server: string;
  open: Open;
  body: Uint8Array | null;
  keepAliveMs: number;
  /** The SSE event that ends an event-stream response when the call fails after Head; null for none. */
  failureEvent(error: TetherError): Uint8Array | null;
  /** Sees the gateway's Head before the agent does (session bookkeeping). */
  onHead(head: Head): void;
  onDone(outcome: CallOutcome): void;
}

type Write = (bytes: Uint8Array) => Promise<void>;

export class RelayCall implements StreamHandler {
  readonly stream: number;
  readonly #connection: GatewayConnection;
  readonly #init: RelayCallInit;
  readonly #requestCredit = new CreditWindow(INITIAL_STREAM_WINDOW);
  readonly #response = deferred<Response>();
  readonly #startedAt = Date.now();
  /** Bytes the gateway may still send before we grant more. */
  #receiveWindow = INITIAL_STREAM_WINDOW;
  #ungranted = 0;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #chain: Promise<void> = Promise.resolve();
  /** Event boundaries of an (unencoded) event-stream response; null for anything else. */
  #sse: SseBoundary | null = null;
  #keepAlive: SseKeepAlive | null = null;
  #sniffed: Uint8Array[] | null = null;
  #sniffedBytes = 0;
  #status = 0;
  #bytesOut = 0;
  #ended = false;
  #requestBodySent = false;
  #done = false;
  /** No more writes to the agent: its stream broke, or we broke it off. */
  #writesStopped = false;

  constructor(connection: GatewayConnection, init: RelayCallInit) {
    this.#connection = connection;
    this.#init = init;
    this.stream = connection.openStream(this);
  }

  /** Sends the request; resolves with the agent's response when the Head arrives, rejects on failure before it. */
  start(): Promise<Response> {
    try {
      this.#connection.send(encodeJsonFrame(FrameType.Open, this.stream, this.#init.open));
      if (this.#init.open.hasBody && this.#init.body) void this.#sendRequestBody(this.#init.body);
      else this.#requestBodySent = true;
    } catch (error) {
      this.fail(asTetherError(error));
    }
    return this.#response.promise;
  }

  onHead(head: Head): void {
    if (this.#writer) throw protocolError(`stream ${this.stream}: second Head`);
    if (head.status < 200) throw protocolError(`stream ${this.stream}: Head status ${head.status} cannot be relayed`);
    const headers = agentResponseHeaders(head.headers);
    const hasBody = !NULL_BODY_STATUS.has(head.status);
    const { readable, writable } = hasBody
      ? new TransformStream<Uint8Array, Uint8Array>()
      : { readable: null, writable: new WritableStream<Uint8Array>() };
    this.#writer = writable.getWriter();
    // Fires when the agent's side goes away, even while no data is flowing.
    this.#writer.closed.catch(() => this.#agentGone());
    const contentType = headers.get("content-type");
    if (hasBody && hasMediaType(contentType, SSE_CONTENT_TYPE) && !headers.has("content-encoding")) {
      this.#sse = new SseBoundary();
      this.#keepAlive = new SseKeepAlive(this.#init.keepAliveMs, this.#sse, (step) => this.#enqueue(step));
    }
    if (hasMediaType(contentType, JSON_CONTENT_TYPE) && !headers.has("content-encoding")) this.#sniffed = [];
    this.#status = head.status;
    this.#init.onHead(head);
    // The body is relayed as the gateway sent it; never let the runtime re-encode it.
    this.#response.resolve(new Response(readable, { status: head.status, headers, encodeBody: "manual" }));
  }

  onData(chunk: Uint8Array): void {
    if (!this.#writer || this.#ended) throw protocolError(`stream ${this.stream}: DATA outside Head…END`);
    if (chunk.byteLength > this.#receiveWindow)
      throw protocolError(`stream ${this.stream}: DATA beyond granted credit`);
    this.#receiveWindow -= chunk.byteLength;
    this.#enqueue(async (write) => {
      await write(chunk);
      this.#bytesOut += chunk.byteLength;
      this.#sse?.push(chunk);
      this.#keepAlive?.wrote();
      this.#sniff(chunk);
      this.#consumed(chunk.byteLength);
    });
  }

  onEnd(): void {
    if (!this.#writer || this.#ended) throw protocolError(`stream ${this.stream}: END outside Head…END`);
    this.#ended = true;
    const writer = this.#writer;
    this.#enqueue(async () => {
      this.#keepAlive?.stop();
      await writer.close();
      // The gateway answered before taking the whole request body: end the stream both ways.
      const reset = this.#requestBodySent ? undefined : { code: "cancelled", message: "response ended first" };
      this.#finish(this.#jsonFailure(), reset);
    });
  }

  onReset(reset: Reset): void {
    this.#failWith(resetError(reset, this.#init.server));
  }

  onCredit(bytes: number): void {
    this.#requestCredit.grant(bytes);
  }

  /** The connection failed under the call (closed, broken, revoked, deleted): say which server's call it cost. */
  fail(error: TetherError): void {
    const message = `the call to MCP server "${this.#init.server}" failed: ${error.message}`;
    this.#failWith(new TetherError(error.code, message, { cause: error, headers: error.headers }));
  }

  #failWith(error: TetherError): void {
    // After END the whole response is in our hands: let the queued writes deliver it.
    if (this.#done || this.#ended) return;
    const writer = this.#writer;
    const event = writer && this.#sse ? this.#init.failureEvent(error) : null;
    if (!writer) {
      this.#status = error.status;
      this.#response.reject(error);
    } else if (event && this.#sse) {
      this.#endWithEvent(writer, this.#sse, event, error);
    } else {
      this.#breakOff(writer, error);
    }
    this.#finish(error.message);
  }

  /**
   * After the chunks already queued for the agent, writes `event` and ends the stream; a stream
   * that stopped inside an event is broken off instead (bytes added there would corrupt that event).
   */
  #endWithEvent(
    writer: WritableStreamDefaultWriter<Uint8Array>,
    boundary: SseBoundary,
    event: Uint8Array,
    error: TetherError,
  ): void {
    this.#enqueue(async (write) => {
      if (!boundary.atBoundary) return this.#breakOff(writer, error);
      await write(event);
      await writer.close();
    });
  }

  #breakOff(writer: WritableStreamDefaultWriter<Uint8Array>, error: TetherError): void {
    this.#writesStopped = true;
    writer.abort(error).catch(() => {});
  }

  /** The agent's response stream was cancelled or broke: tell the gateway to stop. */
  #agentGone(): void {
    this.#writesStopped = true;
    if (this.#done) return;
    this.#finish("the agent disconnected", { code: "cancelled", message: "the agent went away" });
  }

  async #sendRequestBody(body: Uint8Array): Promise<void> {
    try {
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(body);
          controller.close();
        },
      });
      await sendBody(source, this.stream, this.#requestCredit, (frame) => this.#connection.send(frame));
      this.#requestBodySent = true;
    } catch (error) {
      // A finished stream closes the credit window (expected); anything else is a lost connection.
      if (!this.#done) this.fail(asTetherError(error));
    }
  }

  /**
   * Runs write steps in order; a failed write means the agent is gone. Steps queued before the call
   * finished still run (a failure event goes after them), unless writing stopped.
   */
  #enqueue(step: (write: Write) => Promise<void>): void {
    const writer = this.#writer;
    if (!writer) return;
    const write: Write = (bytes) => writer.write(bytes);
    this.#chain = this.#chain
      .then(() => (this.#writesStopped ? undefined : step(write)))
      .catch(() => this.#agentGone());
  }

  #consumed(bytes: number): void {
    this.#ungranted += bytes;
    if (this.#ungranted < CREDIT_BATCH || this.#done) return;
    const grant = this.#ungranted;
    this.#ungranted = 0;
    this.#receiveWindow += grant;
    try {
      this.#connection.send(encodeCreditFrame(this.stream, grant));
    } catch (error) {
      this.fail(asTetherError(error));
    }
  }

  #sniff(chunk: Uint8Array): void {
    if (!this.#sniffed) return;
    if (this.#sniffedBytes + chunk.byteLength > SNIFF_LIMIT) {
      this.#sniffed = null;
      return;
    }
    this.#sniffed.push(chunk.slice());
    this.#sniffedBytes += chunk.byteLength;
  }

  #jsonFailure(): string | null {
    if (!this.#sniffed || this.#sniffedBytes === 0) return null;
    return describeJsonRpcFailure(concatBytes(this.#sniffed));
  }

  /** Ends the call once; `reset` is sent to the gateway when the stream is still open on its side. */
  #finish(error: string | null, reset?: Reset): void {
    if (this.#done) return;
    this.#done = true;
    this.#keepAlive?.stop();
    this.#requestCredit.close(new Error("stream finished"));
    if (reset) this.#connection.sendReset(this.stream, reset);
    this.#connection.closeStream(this.stream);
    try {
      this.#init.onDone({
        status: this.#status,
        error,
        bytesIn: this.#init.body?.byteLength ?? 0,
        bytesOut: this.#bytesOut,
        startedAt: this.#startedAt,
        durationMs: Date.now() - this.#startedAt,
      });
    } catch (failure) {
      console.error("recording a call outcome failed", failure);
    }
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
