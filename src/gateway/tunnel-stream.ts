/**
 * One relayed request on the gateway's side of the tunnel:
 *
 *   edge → gateway   Open, then the request body as DATA… END (if it has one);
 *                    or OpenBody: Open with the whole (small) body inline
 *   gateway → edge   Head, then the response body as DATA… END, within the credit the edge grants;
 *                    or HeadBody: Head with the whole (small, already complete) body inline
 *
 * The request reaches the upstream as soon as Open arrives, its body streaming in as DATA comes.
 * The response body is pumped frame by frame (never held whole); only a body of at most
 * MAX_INLINE_BODY that is complete when its headers arrive goes inline, and only to an edge that
 * announced Feature.inlineBodies. A Reset from the edge, a lost connection or a drain deadline
 * aborts the upstream call. Once the stream has ended (END or Reset sent, or Reset received) no
 * further frame for it leaves the gateway.
 */
import { isTetherError, TetherError } from "../errors/tether-error.ts";
import { concatBytes } from "../http/concat-bytes.ts";
import { isPathAllowed } from "../protocol/allow-paths.ts";
import { CreditWindow } from "../protocol/credit-window.ts";
import { encodeCreditFrame, encodeFrame, encodeJsonBodyFrame, encodeJsonFrame, FrameType } from "../protocol/frames.ts";
import type { Head, HeaderList, Open, Reset } from "../protocol/messages.ts";
import { type ReadChunk, type SendData, type SendFrame, sendChunks } from "../protocol/send-body.ts";
import { INITIAL_STREAM_WINDOW, MAX_INLINE_BODY } from "../protocol/version.ts";
import { IncomingBody } from "./incoming-body.ts";
import { describeError, type Logger } from "./log.ts";
import { readReady } from "./response-body.ts";
import type { Upstream, UpstreamKind } from "./upstream.ts";

/** The synthetic origin of requests handed to upstreams; they build their own target URLs. */
export const UPSTREAM_REQUEST_ORIGIN = "http://upstream.tether.invalid";

export type ResetCode = "cancelled" | "upstream_unavailable" | "not_found" | "gateway_draining" | "internal";

export interface StreamEnvironment {
  send: SendFrame;
  /** Sends a DATA frame as header + payload without joining them (see SendData). */
  sendData?: SendData;
  upstream(name: string): Upstream<UpstreamKind> | undefined;
  log: Logger;
  /** True once the gateway drains (see StreamMux.drain). */
  draining?(): boolean;
  /** The edge announced Feature.inlineBodies: small complete responses may go as HeadBody. */
  inlineBodies?: boolean;
}

export class TunnelStream {
  readonly id: number;
  readonly #open: Open;
  readonly #env: StreamEnvironment;
  readonly #abort = new AbortController();
  readonly #responseCredit = new CreditWindow(INITIAL_STREAM_WINDOW);
  /** A request body arriving as DATA; null when there is none or it came whole (`#inlineBody`). */
  readonly #body: IncomingBody | null;
  readonly #inlineBody: Uint8Array | null;
  #finished = false;
  #eventStream = false;
  #endingEarly = false;

  /** `inlineBody` is the whole request body of an OpenBody. */
  constructor(id: number, open: Open, env: StreamEnvironment, inlineBody: Uint8Array | null = null) {
    this.id = id;
    this.#open = open;
    this.#env = env;
    this.#inlineBody = inlineBody;
    this.#body =
      open.hasBody && !inlineBody
        ? new IncomingBody(INITIAL_STREAM_WINDOW, (bytes) => this.#send(encodeCreditFrame(id, bytes)))
        : null;
  }

  /** Relays the request and its response; settles when the stream has ended either way, never rejects. */
  async run(): Promise<void> {
    const { server, path } = this.#open;
    const upstream = this.#env.upstream(server);
    if (!upstream) return this.reset("not_found", `no server "${server}" on this gateway`);
    if (!isPathAllowed(upstream.allowPaths, path)) {
      return this.reset("not_found", `server "${server}" does not expose ${path}`);
    }
    let response: Response;
    try {
      response = await upstream.handle(this.#request(), path, this.#abort.signal, this.#requestBytes());
    } catch (error) {
      if (this.#finished) return;
      if (isTetherError(error) && error.code === "not_found") return this.reset("not_found", error.message);
      const known = isTetherError(error) && error.code !== "internal";
      this.#env.log("upstream_failed", { stream: this.id, server, error: describeError(error) });
      return this.reset(
        known ? "upstream_unavailable" : "internal",
        known ? error.message : `server "${server}": ${describeError(error)}`,
      );
    }
    if (this.#finished) {
      await response.body?.cancel().catch(() => {});
      return;
    }
    await this.#respond(response);
  }

  onData(chunk: Uint8Array): void {
    if (this.#finished) return;
    if (!this.#body)
      throw new TetherError("bad_request", `stream ${this.id}: DATA for a request without a streamed body`);
    this.#body.push(chunk);
  }

  onEnd(): void {
    this.#body?.end();
  }

  onCredit(bytes: number): void {
    this.#responseCredit.grant(bytes);
  }

  /** The edge reset the stream: stop the upstream work, send nothing more. */
  onReset(reset: Reset): void {
    this.#stop(new Error(`the edge reset the stream (${reset.code}): ${reset.message}`));
  }

  /** Ends the stream from our side with a Reset the edge turns into an error for the agent. */
  reset(code: ResetCode, message: string): void {
    if (this.#finished) return;
    this.#send(encodeJsonFrame(FrameType.Reset, this.id, { code, message } satisfies Reset));
    this.#stop(new Error(`stream reset (${code}): ${message}`));
  }

  /**
   * A GET answered with an event stream (an MCP session's standing stream) never ends on its own.
   * A draining gateway ends it cleanly with END instead of waiting; the client reconnects as usual.
   */
  get isEventStream(): boolean {
    return this.#eventStream;
  }

  endEventStream(): void {
    if (this.#finished || !this.#eventStream) return;
    this.#endingEarly = true;
    this.#responseCredit.close(new Error("event stream ended by the gateway"));
    this.#abort.abort(new Error("the gateway is shutting down"));
  }

  /** The connection is gone: stop silently (the edge already failed its side). */
  abandon(reason: Error): void {
    this.#stop(reason);
  }

  #request(): Request {
    const { method, path, query, headers } = this.#open;
    const init: RequestInit & { duplex?: "half" } = { method, headers: new Headers(headers) };
    if (method !== "GET" && method !== "HEAD") {
      if (this.#inlineBody) {
        init.body = this.#inlineBody as Uint8Array<ArrayBuffer>;
      } else if (this.#body) {
        init.body = this.#body.stream;
        init.duplex = "half";
      }
    }
    return new Request(`${UPSTREAM_REQUEST_ORIGIN}${path || "/"}${query}`, init);
  }

  #requestBytes(): Uint8Array | undefined {
    const { method } = this.#open;
    return this.#inlineBody && method !== "GET" && method !== "HEAD" ? this.#inlineBody : undefined;
  }

  async #respond(response: Response): Promise<void> {
    const head: Head = { status: response.status, headers: headerList(response.headers) };
    const contentType = response.headers.get("content-type") ?? "";
    this.#eventStream = this.#open.method === "GET" && /^text\/event-stream\b/i.test(contentType);
    const body = response.body;
    if (!body) {
      if (this.#env.inlineBodies) this.#send(encodeJsonBodyFrame(FrameType.HeadBody, this.id, head, EMPTY));
      else this.#sendHeadAndEnd(head);
      this.#finish();
      return;
    }
    const reader = body.getReader();
    // An abort (Reset, drain, lost connection) interrupts a read waiting on the upstream (an idle
    // event stream) and cancels the upstream body.
    const cancel = () => void reader.cancel(this.#abort.signal.reason).catch(() => {});
    this.#abort.signal.addEventListener("abort", cancel, { once: true });
    try {
      let rest: ReadChunk = () => reader.read();
      if (this.#env.inlineBodies && !this.#eventStream) {
        const length = Number(response.headers.get("content-length") ?? Number.NaN);
        const ready = await readReady(reader, {
          limit: MAX_INLINE_BODY,
          lengthWithin: length <= MAX_INLINE_BODY,
          // An answer to a POST ends with the call; a GET may be a stream that never does.
          graceMs: this.#open.method === "GET" ? 0 : INLINE_GRACE_MS,
        });
        if (ready.complete && ready.bytes <= MAX_INLINE_BODY && !this.#abort.signal.aborted) {
          this.#send(encodeJsonBodyFrame(FrameType.HeadBody, this.id, head, concatBytes(ready.chunks)));
          this.#finish();
          return;
        }
        rest = ready.rest;
      }
      this.#send(encodeJsonFrame(FrameType.Head, this.id, head));
      // An event stream that only starts while draining is ended right away too.
      if (this.#env.draining?.()) this.endEventStream();
      // Without the socket's header + payload sender, sendChunks joins DATA frames itself.
      const sendData = this.#env.sendData;
      await sendChunks(
        this.#guarded(rest),
        this.id,
        this.#responseCredit,
        (frame) => this.#send(frame),
        sendData &&
          ((header, payload) => {
            if (!this.#finished) sendData(header, payload);
          }),
      );
      this.#finish();
    } catch (error) {
      void reader.cancel(error).catch(() => {});
      if (this.#finished) return;
      if (this.#endingEarly) {
        this.#send(encodeFrame(FrameType.End, this.id));
        this.#finish();
        return;
      }
      this.#env.log("upstream_broke_off", { stream: this.id, server: this.#open.server, error: describeError(error) });
      this.reset(
        "upstream_unavailable",
        `server "${this.#open.server}" broke off its response: ${describeError(error)}`,
      );
    } finally {
      this.#abort.signal.removeEventListener("abort", cancel);
    }
  }

  /** A body read that fails once the stream was aborted (a cancelled read reports "done", not an error). */
  #guarded(read: ReadChunk): ReadChunk {
    return async () => {
      const result = await read();
      if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
      return result;
    };
  }

  #sendHeadAndEnd(head: Head): void {
    this.#send(encodeJsonFrame(FrameType.Head, this.id, head));
    this.#send(encodeFrame(FrameType.End, this.id));
  }

  #send(frame: Uint8Array): void {
    if (!this.#finished) this.#env.send(frame);
  }

  #finish(): void {
    this.#finished = true;
    this.#responseCredit.close(STREAM_FINISHED);
  }

  #stop(reason: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#responseCredit.close(reason);
    this.#body?.fail(reason);
    this.#abort.abort(reason);
  }
}

const EMPTY = new Uint8Array(0);
/** How long a started answer may wait for its end to go inline (see readReady). */
const INLINE_GRACE_MS = 2;
/** One object for every stream: nothing waits on a finished stream's credit, so no stack trace is needed. */
const STREAM_FINISHED = new Error("stream finished");

/** Response headers as pairs; Headers iteration keeps each Set-Cookie separate. */
function headerList(headers: Headers): HeaderList {
  return [...headers];
}
