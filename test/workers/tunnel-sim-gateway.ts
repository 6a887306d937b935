/**
 * A gateway played by the test: it speaks the tunnel protocol (src/protocol) over a real WebSocket
 * to the edge, so every frame the relay sends can be observed and every misbehaviour staged. Also a
 * bounded reader for agents' response bodies.
 */
import { concatBytes } from "../../src/http/concat-bytes.ts";
import { CreditWindow } from "../../src/protocol/credit-window.ts";
import {
  decodeCredit,
  decodeFrame,
  decodeJson,
  decodeJsonBody,
  encodeCreditFrame,
  encodeFrame,
  encodeJsonBodyFrame,
  encodeJsonFrame,
  type Frame,
  FrameType,
} from "../../src/protocol/frames.ts";
import {
  type Head,
  type Hello,
  type Open,
  OpenSchema,
  type Reset,
  ResetSchema,
  WelcomeSchema,
} from "../../src/protocol/messages.ts";
import { sendBody } from "../../src/protocol/send-body.ts";
import { INITIAL_STREAM_WINDOW, TUNNEL_PROTOCOL_VERSION } from "../../src/protocol/version.ts";
import {
  agentFetch,
  type CreatedTunnel,
  edgeFetch,
  JSON_HEADERS,
  POST_JSON,
  WAIT_MS,
  within,
} from "./tunnel-fixtures.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const text = (bytes: Uint8Array): string => decoder.decode(bytes);

export interface OpenedStream {
  stream: number;
  open: Open;
  body: Uint8Array;
  /** The request came as one OpenBody (body inline), not Open, DATA…, END. */
  inline: boolean;
}

/**
 * A gateway played by the test. Received frames queue up until a test takes them; request-body
 * DATA is credited back as it arrives, and Credit frames feed per-stream windows used by `sendBody`.
 */
export class SimGateway {
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly credits = new Map<number, CreditWindow>();
  /** Total Credit bytes the edge granted, per stream. */
  readonly granted = new Map<number, number>();
  /** Whether request-body DATA is credited back as it arrives (as a gateway whose upstream keeps up). */
  creditRequestBodies = true;
  #frames: Frame[] = [];
  #waiters: Array<() => void> = [];
  #isClosed = false;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (event) => {
        this.#isClosed = true;
        for (const window of this.credits.values()) window.close(new Error("socket closed"));
        resolve({ code: event.code, reason: event.reason });
        this.#wake();
      });
    });
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") return; // "pong"
      const frame = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
      if (frame.type === FrameType.Credit) {
        const bytes = decodeCredit(frame);
        this.granted.set(frame.stream, (this.granted.get(frame.stream) ?? 0) + bytes);
        this.credits.get(frame.stream)?.grant(bytes);
      }
      if (frame.type === FrameType.Open || frame.type === FrameType.OpenBody) {
        this.credits.set(frame.stream, new CreditWindow(INITIAL_STREAM_WINDOW));
      }
      if (frame.type === FrameType.Data && this.creditRequestBodies) {
        this.ws.send(encodeCreditFrame(frame.stream, frame.payload.byteLength));
      }
      this.#frames.push(frame);
      this.#wake();
    });
    ws.binaryType = "arraybuffer";
    ws.accept();
  }

  /** Opens the socket only (no Hello). Returns the HTTP response when the upgrade is refused. */
  static async dial(tunnel: string, token: string | null): Promise<SimGateway | Response> {
    const headers: Record<string, string> = { upgrade: "websocket" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await edgeFetch(`/t/${tunnel}/connect`, { headers });
    if (!res.webSocket) return res;
    return new SimGateway(res.webSocket);
  }

  /** Dials and completes Hello/Welcome. */
  static async connect(
    tunnel: CreatedTunnel,
    hello: Partial<Hello> = {},
    token: string = tunnel.gatewayToken,
  ): Promise<SimGateway> {
    const gateway = await SimGateway.dial(tunnel.name, token);
    if (gateway instanceof Response) throw new Error(`connect refused: ${gateway.status} ${await gateway.text()}`);
    gateway.sendJson(FrameType.Hello, 0, {
      protocol: TUNNEL_PROTOCOL_VERSION,
      gatewayId: `gw-${crypto.randomUUID()}`,
      version: "test-1.0",
      servers: [{ name: "echo", kind: "http", allowPaths: [] }],
      ...hello,
    });
    const welcome = decodeJson(await gateway.take((f) => f.type === FrameType.Welcome, "Welcome"), WelcomeSchema);
    if (welcome.tunnel !== tunnel.name) throw new Error(`Welcome names ${welcome.tunnel}`);
    return gateway;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  send(frame: Uint8Array): void {
    this.ws.send(frame);
  }

  sendJson(type: FrameType, stream: number, body: unknown): void {
    this.ws.send(encodeJsonFrame(type, stream, body));
  }

  /** Takes the first queued (or next arriving) frame matching `match`. */
  async take(match: (frame: Frame) => boolean, what: string, ms = WAIT_MS): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const index = this.#frames.findIndex(match);
      if (index >= 0) return this.#frames.splice(index, 1)[0] as Frame;
      if (this.#isClosed) throw new Error(`socket closed while waiting for ${what}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, remaining);
      });
      clearTimeout(timer);
    }
  }

  /** Waits for the next Open (or OpenBody) and its whole request body. */
  async nextRequest(): Promise<OpenedStream> {
    const openFrame = await this.take((f) => f.type === FrameType.Open || f.type === FrameType.OpenBody, "Open");
    if (openFrame.type === FrameType.OpenBody) {
      const { message, body } = decodeJsonBody(openFrame, OpenSchema);
      return { stream: openFrame.stream, open: message, body: body.slice(), inline: true };
    }
    const open = decodeJson(openFrame, OpenSchema);
    const chunks: Uint8Array[] = [];
    if (open.hasBody) {
      for (;;) {
        const frame = await this.take(
          (f) => f.stream === openFrame.stream && (f.type === FrameType.Data || f.type === FrameType.End),
          `request body of stream ${openFrame.stream}`,
        );
        if (frame.type === FrameType.End) break;
        chunks.push(frame.payload.slice());
      }
    }
    return { stream: openFrame.stream, open, body: concatBytes(chunks), inline: false };
  }

  /**
   * Answers the next request with a 200 Head and a first chunk, leaving the stream open; resolves
   * once the agent's response has delivered that chunk, so the stream is known to be under way.
   */
  async streaming(
    call: Promise<Response>,
    headers: Array<[string, string]>,
    first: string,
  ): Promise<{ stream: number; response: Response; reader: BodyReader }> {
    const { stream } = await this.nextRequest();
    this.head(stream, 200, headers);
    this.data(stream, first);
    const response = await call;
    const reader = new BodyReader(response);
    await reader.until(first);
    return { stream, response, reader };
  }

  /** Waits for a Reset from the edge on `stream`. */
  async resetOf(stream: number): Promise<Reset> {
    return decodeJson(await this.take((f) => f.stream === stream && f.type === FrameType.Reset, "Reset"), ResetSchema);
  }

  head(stream: number, status: number, headers: Array<[string, string]> = []): void {
    this.sendJson(FrameType.Head, stream, { status, headers } satisfies Head);
  }

  data(stream: number, chunk: string | Uint8Array): void {
    this.send(encodeFrame(FrameType.Data, stream, typeof chunk === "string" ? encoder.encode(chunk) : chunk));
  }

  end(stream: number): void {
    this.send(encodeFrame(FrameType.End, stream));
  }

  reset(stream: number, code: string, message: string): void {
    this.sendJson(FrameType.Reset, stream, { code, message } satisfies Reset);
  }

  /** A complete response in one HeadBody frame (what a gateway sends an edge that takes inline bodies). */
  headBody(stream: number, status: number, headers: Array<[string, string]>, body: string | Uint8Array): void {
    const bytes = typeof body === "string" ? encoder.encode(body) : body;
    this.send(encodeJsonBodyFrame(FrameType.HeadBody, stream, { status, headers } satisfies Head, bytes));
  }

  /** Frames received for `stream` that no test has taken yet. */
  queued(stream: number): Frame[] {
    return this.#frames.filter((frame) => frame.stream === stream);
  }

  /** A complete response: Head, the body in one DATA, END. */
  respond(stream: number, status: number, headers: Array<[string, string]>, body: string): void {
    this.head(stream, status, headers);
    if (body) this.data(stream, body);
    this.end(stream);
  }

  /**
   * An agent's JSON-RPC POST (`body`) to server "echo", relayed to this gateway and answered 200
   * with the JSON `answer`; the text the agent read.
   */
  async answerCall(tunnel: CreatedTunnel, body: string, answer = "{}"): Promise<string> {
    const call = agentFetch(tunnel, "echo", { method: "POST", headers: POST_JSON, body });
    const { stream } = await this.nextRequest();
    this.respond(stream, 200, JSON_HEADERS, answer);
    return (await call).text();
  }

  /** Sends a body within the edge's credit, as a real gateway does. */
  sendBody(stream: number, body: ReadableStream<Uint8Array>): Promise<number> {
    const window = this.credits.get(stream);
    if (!window) throw new Error(`no credit window for stream ${stream}`);
    return sendBody(body, stream, window, (frame) => this.send(frame));
  }

  close(code = 1000, reason = "test done"): void {
    try {
      this.ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Reads a response body chunk by chunk (bounded waits). */
export class BodyReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  received = "";

  constructor(res: Response) {
    if (!res.body) throw new Error("response has no body");
    this.#reader = res.body.getReader();
  }

  /** Reads until the text received so far contains `needle`. */
  async until(needle: string, ms = WAIT_MS): Promise<string> {
    const read = async () => {
      while (!this.received.includes(needle)) {
        const { done, value } = await this.#reader.read();
        if (done)
          throw new Error(`stream ended before ${JSON.stringify(needle)}; got ${JSON.stringify(this.received)}`);
        this.received += decoder.decode(value, { stream: true });
      }
      return this.received;
    };
    return within(read(), JSON.stringify(needle), ms);
  }

  /** Reads to the end; rejects if the stream errors. */
  async rest(ms = WAIT_MS): Promise<string> {
    const read = async () => {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) return this.received;
        this.received += decoder.decode(value, { stream: true });
      }
    };
    return within(read(), "end of body", ms);
  }

  /** Reads one chunk; returns its size (0 at the end). */
  async chunk(ms = WAIT_MS): Promise<number> {
    const { done, value } = await within(this.#reader.read(), "a body chunk", ms);
    return done ? 0 : value.byteLength;
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}
