/**
 * One agent request relayed over one tunnel stream:
 *
 *   edge → gateway   Open, request body as DATA within the gateway's credit, END;
 *                    or OpenBody (a small body inline) to a gateway that announced inline bodies
 *   gateway → edge   Head → the agent's Response (its body is a TransformStream we write into),
 *                    DATA… (Credit granted back once written to the agent), END;
 *                    or HeadBody: the whole (small) response at once, a Response over its bytes
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

import { ByteCapture } from "../../src/audit/byte-capture.ts";
import { asTetherError } from "../../src/errors/error-response.ts";
import { TetherError } from "../../src/errors/tether-error.ts";
import { isNullBodyStatus } from "../../src/http/hop-by-hop.ts";
import { hasMediaType, SSE_CONTENT_TYPE } from "../../src/mcp/headers.ts";
import { CreditGrants, CreditWindow } from "../../src/protocol/credit-window.ts";
import { encodeCreditFrame, encodeJsonBodyFrame, encodeJsonFrame, FrameType } from "../../src/protocol/frames.ts";
import type { Head, HeaderList, Open, Reset } from "../../src/protocol/messages.ts";
import { sendBody, sendBytes } from "../../src/protocol/send-body.ts";
import { Feature, INITIAL_STREAM_WINDOW, MAX_INLINE_BODY } from "../../src/protocol/version.ts";
import { agentResponseHeaders, headerValue } from "./forward-headers.ts";
import type { GatewayConnection, StreamHandler } from "./gateway-connection.ts";
import { protocolError } from "./gateway-frames.ts";
import { isPlainJson, JsonFailureSniffer, jsonFailure } from "./json-failure.ts";
import { resetError, upstreamLabel } from "./reset-error.ts";
import { SseBoundary, SseKeepAlive } from "./sse-keep-alive.ts";

/** Why a request body still waiting on credit stops (one object: creating an Error per call costs a stack trace). */
const STREAM_FINISHED = new Error("stream finished");

export interface CallOutcome {
  /** HTTP status the agent got; for failures before Head, the status of the error response. */
  status: number;
  error: string | null;
  bytesIn: number;
  bytesOut: number;
  startedAt: number;
  durationMs: number;
  /** The response's first bytes, when the call was asked to capture them (`captureBytes`). */
  response?: Uint8Array;
}

export interface RelayCallInit {
  server: string;
  open: Open;
  /**
   * The request body: whole bytes (sent inline when small), or a stream pumped within the
   * gateway's credit, so a large upload never sits in memory (its reader is cancelled when the
   * call ends first).
   */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  keepAliveMs: number;
  /** Copy this many of the response's first bytes into the outcome (the audit trail's payloads); 0 for none. */
  captureBytes?: number;
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
  /** The agent's Response: resolved at Head, rejected by a failure before it. */
  readonly #response: Promise<Response>;
  #resolveResponse!: (response: Response) => void;
  #rejectResponse!: (error: unknown) => void;
  readonly #startedAt = Date.now();
  /** Bytes the gateway may still send before we grant more. */
  #receiveWindow = INITIAL_STREAM_WINDOW;
  readonly #grants = new CreditGrants((bytes) => this.#grant(bytes));
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #chain: Promise<void> = Promise.resolve();
  /** Event boundaries of an (unencoded) event-stream response; null for anything else. */
  #sse: SseBoundary | null = null;
  #keepAlive: SseKeepAlive | null = null;
  /** Collects an (unencoded) JSON response for the trace; null for anything else. */
  #sniffer: JsonFailureSniffer | null = null;
  /** The response's first bytes, for the audit trail; null unless asked for. */
  readonly #capture: ByteCapture | null;
  #headSeen = false;
  #status = 0;
  #bytesOut = 0;
  #ended = false;
  #requestBodySent = false;
  /** Request body bytes sent so far (a streamed body's length is known only as it goes). */
  #bytesIn = 0;
  #done = false;
  /** No more writes to the agent: its stream broke, or we broke it off. */
  #writesStopped = false;

  constructor(connection: GatewayConnection, init: RelayCallInit) {
    this.#connection = connection;
    this.#init = init;
    this.#capture = init.captureBytes ? new ByteCapture(init.captureBytes) : null;
    this.#response = new Promise((resolve, reject) => {
      this.#resolveResponse = resolve;
      this.#rejectResponse = reject;
    });
    this.stream = connection.openStream(this);
  }

  /** Sends the request; resolves with the agent's response when the Head arrives, rejects on failure before it. */
  start(): Promise<Response> {
    const { open, body } = this.#init;
    try {
      if (!open.hasBody || !body) {
        this.#requestBodySent = true;
        this.#connection.send(encodeJsonFrame(FrameType.Open, this.stream, open));
      } else if (body instanceof ReadableStream) {
        this.#connection.send(encodeJsonFrame(FrameType.Open, this.stream, open));
        void this.#sendRequestBody(body);
      } else if (body.byteLength <= MAX_INLINE_BODY && this.#connection.supports(Feature.inlineBodies)) {
        this.#requestBodySent = true;
        this.#bytesIn = body.byteLength;
        this.#connection.send(encodeJsonBodyFrame(FrameType.OpenBody, this.stream, open, body));
      } else {
        this.#connection.send(encodeJsonFrame(FrameType.Open, this.stream, open));
        void this.#sendRequestBody(body);
      }
    } catch (error) {
      this.fail(asTetherError(error));
    }
    return this.#response;
  }

  /**
   * Head, or with `body` (a HeadBody) the whole response: it is answered and the call ends at once.
   * Whatever can throw (headers the runtime refuses, the session bookkeeping) runs before the call
   * changes state, so a failure still rejects the agent's pending response instead of stranding it.
   */
  onHead(head: Head, body?: Uint8Array): void {
    if (this.#headSeen) throw protocolError(`stream ${this.stream}: second Head`);
    if (head.status < 200) throw protocolError(`stream ${this.stream}: Head status ${head.status} cannot be relayed`);
    this.#headSeen = true;
    const headers = agentResponseHeaders(head.headers);
    if (body) {
      this.#whole(head, headers, body);
      return;
    }
    const hasBody = !isNullBodyStatus(head.status);
    const { readable, writable } = hasBody
      ? new TransformStream<Uint8Array, Uint8Array>()
      : { readable: null, writable: new WritableStream<Uint8Array>() };
    const response = this.#agentResponse(readable, head.status, headers);
    this.#init.onHead(head);
    this.#status = head.status;
    this.#writer = writable.getWriter();
    // Fires when the agent's side goes away, even while no data is flowing.
    this.#writer.closed.catch(() => this.#agentGone());
    const contentType = headerValue(headers, "content-type");
    if (hasBody && hasMediaType(contentType, SSE_CONTENT_TYPE) && headerValue(headers, "content-encoding") === null) {
      this.#sse = new SseBoundary();
      this.#keepAlive = new SseKeepAlive(this.#init.keepAliveMs, this.#sse, (step) => this.#enqueue(step));
    }
    if (isPlainJson(headers)) this.#sniffer = new JsonFailureSniffer();
    this.#resolveResponse(response);
  }

  /** A HeadBody: no stream to pump, no credit to grant; the call is done once the agent has its Response. */
  #whole(head: Head, headers: HeaderList, body: Uint8Array): void {
    if (body.byteLength > this.#receiveWindow) throw protocolError(`stream ${this.stream}: HeadBody beyond the window`);
    const nullBody = isNullBodyStatus(head.status);
    if (nullBody && body.byteLength > 0) throw protocolError(`stream ${this.stream}: a ${head.status} with a body`);
    const response = this.#agentResponse(nullBody ? null : (body as Uint8Array<ArrayBuffer>), head.status, headers);
    this.#init.onHead(head);
    this.#ended = true;
    this.#status = head.status;
    this.#bytesOut = body.byteLength;
    this.#capture?.push(body);
    this.#resolveResponse(response);
    // The gateway answered before taking the whole request body: end the stream both ways.
    const reset = this.#requestBodySent ? undefined : { code: "cancelled", message: "response ended first" };
    this.#finish(isPlainJson(headers) ? jsonFailure(body) : null, reset);
  }

  /** The agent's Response; a header the runtime refuses (a bad name or value) is the gateway's protocol error. */
  #agentResponse(body: BodyInit | null, status: number, headers: HeaderList): Response {
    try {
      // The body is relayed as the gateway sent it; never let the runtime re-encode it.
      return new Response(body, { status, headers, encodeBody: "manual" });
    } catch (error) {
      throw protocolError(`stream ${this.stream}: Head cannot be relayed (${(error as Error).message})`);
    }
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
      this.#sniffer?.push(chunk);
      this.#capture?.push(chunk);
      if (!this.#done) this.#grants.consumed(chunk.byteLength);
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
      this.#finish(this.#sniffer?.failure() ?? null, reset);
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
    const message = `the call to ${upstreamLabel(this.#init.server)} failed: ${error.message}`;
    this.#failWith(new TetherError(error.code, message, { cause: error, headers: error.headers }));
  }

  #failWith(error: TetherError): void {
    // After END the whole response is in our hands: let the queued writes deliver it.
    if (this.#done || this.#ended) return;
    const writer = this.#writer;
    const event = writer && this.#sse ? this.#init.failureEvent(error) : null;
    if (!writer) {
      this.#status = error.status;
      this.#rejectResponse(error);
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

  async #sendRequestBody(body: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
    const send = (frame: Uint8Array) => this.#connection.send(frame);
    try {
      this.#bytesIn = await (body instanceof ReadableStream
        ? sendBody(body, this.stream, this.#requestCredit, send)
        : sendBytes(body, this.stream, this.#requestCredit, send));
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

  #grant(bytes: number): void {
    this.#receiveWindow += bytes;
    try {
      this.#connection.send(encodeCreditFrame(this.stream, bytes));
    } catch (error) {
      this.fail(asTetherError(error));
    }
  }

  /** Ends the call once; `reset` is sent to the gateway when the stream is still open on its side. */
  #finish(error: string | null, reset?: Reset): void {
    if (this.#done) return;
    this.#done = true;
    this.#keepAlive?.stop();
    // Only a request body still being sent can wait on credit; it stops here.
    if (!this.#requestBodySent) this.#requestCredit.close(STREAM_FINISHED);
    if (reset) this.#connection.sendReset(this.stream, reset);
    this.#connection.closeStream(this.stream);
    try {
      this.#init.onDone({
        status: this.#status,
        error,
        bytesIn: this.#bytesIn,
        bytesOut: this.#bytesOut,
        startedAt: this.#startedAt,
        durationMs: Date.now() - this.#startedAt,
        ...(this.#capture ? { response: this.#capture.bytes() } : {}),
      });
    } catch (failure) {
      console.error("recording a call outcome failed", failure);
    }
  }
}
