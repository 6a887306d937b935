/**
 * The gateway's one outbound connection to the edge, kept up for as long as the gateway runs.
 *
 *   dial `{edge}/t/{tunnel}/connect` (Authorization: Bearer <gateway token>)
 *   → Hello (gatewayId, version, servers, executors) → Welcome (pingIntervalMs)
 *   → "ping" every pingIntervalMs; two pings without anything heard back mean the link is dead
 *   → streams (./stream-mux.ts) until the socket closes → retry with backoff and full jitter
 *
 * A refused handshake (401, 404) is logged as an authentication problem with the edge's reason and
 * retried like any other failure, since an operator may fix the token or tunnel meanwhile.
 * `stop()` drains: GoAway, in-flight streams finish (bounded), close 1000, no more retries.
 *
 * State: at most one socket and its StreamMux; the retry counter resets once a connection has
 * stayed up for STABLE_AFTER_MS, so a link that flaps right after Welcome still backs off.
 */
import WebSocket, { type RawData } from "ws";
import { TetherError } from "../errors/tether-error.ts";
import { truncateCloseReason } from "../protocol/close-reason.ts";
import { decodeFrame, decodeJson, encodeJsonFrame, FrameType } from "../protocol/frames.ts";
import { type GoAway, type Hello, WelcomeSchema } from "../protocol/messages.ts";
import { Feature, PING, PONG, TUNNEL_PROTOCOL_VERSION } from "../protocol/version.ts";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "../retry/backoff.ts";
import { closeHint, describeRefusal, readReason } from "./connect-diagnostics.ts";
import { describeError, type Logger } from "./log.ts";
import { StreamMux } from "./stream-mux.ts";
import type { Upstream, UpstreamKind } from "./upstream.ts";

/** Time allowed for the upgrade and for the Welcome after Hello. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A connection that lasted this long resets the backoff. */
const STABLE_AFTER_MS = 10_000;
/** Largest frame accepted from the edge (DATA frames are at most 64 KiB). */
const MAX_INCOMING_FRAME = 8 * 1024 * 1024;
/** How long a closing handshake may take before the socket is cut. */
const CLOSE_TIMEOUT_MS = 2_000;
/** Missed keep-alive answers that mean the link is dead. */
const MAX_UNANSWERED_PINGS = 2;
/**
 * Payloads from this size on leave as two fragments of one message (header, then payload) instead
 * of one joined copy: `ws` masks every byte a client sends into a buffer of its own anyway, so
 * joining first would copy the payload twice. Smaller ones are joined (one fragment is cheaper).
 */
const FRAGMENT_FROM_BYTES = 8 * 1024;

export type TunnelState = "idle" | "connecting" | "connected" | "waiting" | "stopped";

export interface TunnelClientOptions {
  /** The WebSocket URL (see connectUrl in ./config.ts). */
  url: string;
  token: string;
  tunnel: string;
  hello: Hello;
  /** By the name Open frames use: a server's name, or `executor:NAME` for an executor. */
  upstreams: ReadonlyMap<string, Upstream<UpstreamKind>>;
  log: Logger;
  backoff?: BackoffOptions;
  random?: () => number;
  handshakeTimeoutMs?: number;
}

export class TunnelClient {
  readonly #options: TunnelClientOptions;
  #state: TunnelState = "idle";
  #socket: WebSocket | null = null;
  #mux: StreamMux | null = null;
  #socketClosed: Promise<void> = Promise.resolve();
  #attempt = 0;
  #connectedAt = 0;
  #unanswered = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #welcomeTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(options: TunnelClientOptions) {
    this.#options = options;
  }

  get state(): TunnelState {
    return this.#state;
  }

  /** Streams in flight on the current connection. */
  get inFlight(): number {
    return this.#mux?.size ?? 0;
  }

  start(): void {
    if (this.#state !== "idle") return;
    this.#connect();
  }

  /**
   * Drains and disconnects for good: GoAway, then streams in flight get up to `drainTimeoutMs` to
   * finish before they are reset. Resolves with how many had to be reset.
   */
  async stop(drainTimeoutMs: number): Promise<{ reset: number }> {
    if (this.#state === "stopped") return { reset: 0 };
    this.#state = "stopped";
    clearTimeout(this.#retryTimer);
    const ws = this.#socket;
    const mux = this.#mux;
    let reset = 0;
    if (ws && mux && ws.readyState === WebSocket.OPEN) {
      const goAway: GoAway = { reason: "gateway shutting down" };
      ws.send(encodeJsonFrame(FrameType.GoAway, 0, goAway));
      mux.drain();
      this.#options.log("draining", { inFlight: mux.size, timeoutMs: drainTimeoutMs });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), drainTimeoutMs);
      });
      const outcome = await Promise.race([mux.idle().then(() => "idle" as const), deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        reset = mux.size;
        mux.resetAll("gateway_draining", "the gateway shut down before the call finished");
      }
      ws.close(1000, "gateway shutting down");
    } else {
      ws?.terminate();
    }
    if (ws) await this.#closedWithin(ws, CLOSE_TIMEOUT_MS);
    return { reset };
  }

  #connect(): void {
    this.#state = "connecting";
    const { url, token, log } = this.#options;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_INCOMING_FRAME,
    });
    ws.binaryType = "arraybuffer";
    this.#socket = ws;
    this.#clearTimers();
    let refused = false;
    let opened = false;
    this.#socketClosed = new Promise((resolve) => ws.once("close", () => resolve()));
    if (this.#attempt === 0) log("connecting", { url });

    ws.on("unexpected-response", (request, response) => {
      refused = true;
      void readReason(response).then((reason) => {
        const { event, ...fields } = describeRefusal(response.statusCode ?? 0, reason, this.#options.tunnel);
        log(event, fields);
        request.destroy();
        ws.terminate();
      });
    });
    ws.on("open", () => {
      opened = true;
      ws.send(encodeJsonFrame(FrameType.Hello, 0, this.#options.hello));
      this.#welcomeTimer = setTimeout(() => {
        log("handshake_timeout", { waitedMs: this.#options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS });
        ws.terminate();
      }, this.#options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    });
    ws.on("message", (data, isBinary) => {
      if (ws !== this.#socket) return;
      this.#unanswered = 0;
      try {
        this.#receive(ws, data, isBinary);
      } catch (error) {
        const protocol = error instanceof TetherError && error.code === "bad_request";
        log(protocol ? "protocol_error" : "internal_error", { error: describeError(error) });
        ws.close(protocol ? 4400 : 1011, truncateCloseReason(describeError(error)));
      }
    });
    ws.on("error", (error) => {
      if (refused) return;
      log(opened ? "socket_error" : "connect_failed", { error: networkError(error) });
    });
    ws.on("close", (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  #receive(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      const text = data.toString();
      if (text !== PONG) this.#options.log("unexpected_text", { text: text.slice(0, 64) });
      return;
    }
    const frame = decodeFrame(toBytes(data));
    if (this.#mux) {
      if (frame.type === FrameType.Welcome) throw new TetherError("bad_request", "second Welcome");
      this.#mux.handle(frame);
      return;
    }
    if (frame.type !== FrameType.Welcome) {
      throw new TetherError("bad_request", `expected Welcome, got frame 0x${frame.type.toString(16)}`);
    }
    const welcome = decodeJson(frame, WelcomeSchema);
    if (welcome.protocol !== TUNNEL_PROTOCOL_VERSION) {
      throw new TetherError(
        "bad_request",
        `edge speaks protocol ${welcome.protocol}, this gateway ${TUNNEL_PROTOCOL_VERSION}`,
      );
    }
    clearTimeout(this.#welcomeTimer);
    this.#state = "connected";
    this.#connectedAt = Date.now();
    const { upstreams, log } = this.#options;
    this.#mux = new StreamMux({
      send: (frame) => sendFrame(ws, frame),
      sendData: (header, payload) => sendFrame(ws, header, payload),
      upstream: (name) => upstreams.get(name),
      log,
      inlineBodies: welcome.features.includes(Feature.inlineBodies),
    });
    this.#unanswered = 0;
    this.#pingTimer = setInterval(() => {
      if (this.#unanswered >= MAX_UNANSWERED_PINGS) {
        log("keepalive_lost", { missed: this.#unanswered, intervalMs: welcome.pingIntervalMs });
        ws.terminate();
        return;
      }
      this.#unanswered++;
      ws.send(PING);
    }, welcome.pingIntervalMs);
    log("connected", {
      tunnel: welcome.tunnel,
      gatewayId: this.#options.hello.gatewayId,
      servers: this.#options.hello.servers.map((server) => server.name).join(","),
      executors: this.#options.hello.executors.map((executor) => executor.name).join(",") || undefined,
      pingIntervalMs: welcome.pingIntervalMs,
    });
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#socket) return;
    const wasConnected = this.#mux !== null;
    this.#mux?.abandonAll(new TetherError("gateway_lost", `the tunnel connection closed (${code})`));
    this.#mux = null;
    this.#socket = null;
    this.#clearTimers();
    if (wasConnected) {
      this.#options.log("disconnected", { code, reason: reason || undefined, hint: closeHint(code) });
      if (Date.now() - this.#connectedAt >= STABLE_AFTER_MS) this.#attempt = 0;
    }
    if (this.#state === "stopped") return;
    this.#state = "waiting";
    const delay = backoffDelay(this.#attempt, this.#options.backoff ?? DEFAULT_BACKOFF, this.#options.random);
    this.#attempt++;
    this.#options.log("reconnecting", { inMs: delay, attempt: this.#attempt });
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  /** Clears the per-connection timers, before a new socket or after one closed. */
  #clearTimers(): void {
    clearTimeout(this.#welcomeTimer);
    clearInterval(this.#pingTimer);
  }

  async #closedWithin(ws: WebSocket, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const closed = this.#socketClosed;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, ms);
    });
    await Promise.race([closed, timeout]);
    clearTimeout(timer);
  }
}

/** Sends one tunnel frame (whole, or header + payload) as one WebSocket message; drops it once the socket is closing. */
function sendFrame(ws: WebSocket, frame: Uint8Array, payload?: Uint8Array): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (!payload) {
    ws.send(frame);
  } else if (payload.byteLength < FRAGMENT_FROM_BYTES) {
    ws.send(Buffer.concat([frame, payload], frame.byteLength + payload.byteLength));
  } else {
    ws.send(frame, { binary: true, fin: false });
    ws.send(payload, { binary: true, fin: true });
  }
}

function toBytes(data: RawData): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return Buffer.concat(data);
  return data;
}

function networkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}
