/**
 * One relayed request on the gateway's side of the tunnel:
 *
 *   edge → gateway   Open, then the request body as DATA… END (if it has one)
 *   gateway → edge   Head, then the response body as DATA… END, within the credit the edge grants
 *
 * The request reaches the upstream as soon as Open arrives, its body streaming in as DATA comes.
 * The response body is pumped frame by frame (never held whole). A Reset from the edge, a lost
 * connection or a drain deadline aborts the upstream call. Once the stream has ended (END or
 * Reset sent, or Reset received) no further frame for it leaves the gateway.
 */
import { isTetherError, TetherError } from "../errors/tether-error.ts";
import { isPathAllowed, isUnsafePath } from "../protocol/allow-paths.ts";
import { CreditWindow } from "../protocol/credit-window.ts";
import { encodeCreditFrame, encodeFrame, encodeJsonFrame, FrameType } from "../protocol/frames.ts";
import type { Head, HeaderList, Open, Reset } from "../protocol/messages.ts";
import { sendBody } from "../protocol/send-body.ts";
import { INITIAL_STREAM_WINDOW } from "../protocol/version.ts";
import { IncomingBody } from "./incoming-body.ts";
import { describeError, type Logger } from "./log.ts";
import type { Upstream } from "./upstream.ts";

/** The synthetic origin of requests handed to upstreams; they build their own target URLs. */
export const UPSTREAM_REQUEST_ORIGIN = "http://upstream.tether.invalid";

export type ResetCode = "cancelled" | "upstream_unavailable" | "not_found" | "gateway_draining" | "internal";

export interface StreamEnvironment {
  send(frame: Uint8Array): void;
  upstream(name: string): Upstream | undefined;
  log: Logger;
  /** True once the gateway drains (see StreamMux.drain). */
  draining?(): boolean;
}

export class TunnelStream {
  readonly id: number;
  readonly #open: Open;
  readonly #env: StreamEnvironment;
  readonly #abort = new AbortController();
  readonly #responseCredit = new CreditWindow(INITIAL_STREAM_WINDOW);
  readonly #body: IncomingBody | null;
  #finished = false;
  #eventStream = false;
  #endingEarly = false;

  constructor(id: number, open: Open, env: StreamEnvironment) {
    this.id = id;
    this.#open = open;
    this.#env = env;
    this.#body = open.hasBody
      ? new IncomingBody(INITIAL_STREAM_WINDOW, (bytes) => this.#send(encodeCreditFrame(id, bytes)))
      : null;
  }

  /** Relays the request and its response; settles when the stream has ended either way, never rejects. */
  async run(): Promise<void> {
    const { server, path } = this.#open;
    const upstream = this.#env.upstream(server);
    if (!upstream) return this.reset("not_found", `no server "${server}" on this gateway`);
    if (isUnsafePath(path) || !isPathAllowed(upstream.allowPaths, path)) {
      return this.reset("not_found", `server "${server}" does not expose ${path}`);
    }
    let response: Response;
    try {
      response = await upstream.handle(this.#request(), path, this.#abort.signal);
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
    if (!this.#body) throw new TetherError("bad_request", `stream ${this.id}: DATA for a request without a body`);
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
    if (this.#body && method !== "GET" && method !== "HEAD") {
      init.body = this.#body.stream;
      init.duplex = "half";
    }
    return new Request(`${UPSTREAM_REQUEST_ORIGIN}${path || "/"}${query}`, init);
  }

  async #respond(response: Response): Promise<void> {
    const head: Head = { status: response.status, headers: headerList(response.headers) };
    this.#send(encodeJsonFrame(FrameType.Head, this.id, head));
    this.#eventStream =
      this.#open.method === "GET" && /^text\/event-stream\b/i.test(response.headers.get("content-type") ?? "");
    // An event stream that only starts while draining is ended right away too.
    if (this.#env.draining?.()) this.endEventStream();
    try {
      if (response.body) {
        // Piping through our own stream lets an abort interrupt a read that is waiting on the
        // upstream (an idle SSE stream), and cancels the upstream body with it.
        const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), {
          signal: this.#abort.signal,
        });
        await sendBody(body, this.id, this.#responseCredit, (frame) => this.#send(frame));
      } else {
        this.#send(encodeFrame(FrameType.End, this.id));
      }
      this.#finish();
    } catch (error) {
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
    }
  }

  #send(frame: Uint8Array): void {
    if (!this.#finished) this.#env.send(frame);
  }

  #finish(): void {
    this.#finished = true;
    this.#responseCredit.close(new Error("stream finished"));
  }

  #stop(reason: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#responseCredit.close(reason);
    this.#body?.fail(reason);
    this.#abort.abort(reason);
  }
}

/** Response headers as pairs; Headers iteration keeps each Set-Cookie separate. */
function headerList(headers: Headers): HeaderList {
  return [...headers];
}
