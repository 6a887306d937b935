/**
 * A stand-in for the edge's relay, for gateway tests in Node: a `ws` WebSocketServer on 127.0.0.1
 * that accepts `/t/:tunnel/connect` upgrades, records every frame a gateway sends, and lets a test
 * play the edge's side (Welcome, Open, DATA, Credit, Reset) frame by frame. It can refuse the
 * next upgrades with an HTTP status, or leave pings unanswered.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
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
  HeadSchema,
  type Hello,
  HelloSchema,
  type Open,
  type Reset,
  ResetSchema,
} from "../../src/protocol/messages.ts";
import { PING, PONG, TUNNEL_PROTOCOL_VERSION } from "../../src/protocol/version.ts";
import { until, within } from "./stdio-fixtures.ts";

export interface FakeEdge {
  /** Base URL to give the gateway as --edge. */
  url: string;
  connections: FakeConnection[];
  /** The next (or an already accepted, not yet taken) connection. */
  nextConnection(ms?: number): Promise<FakeConnection>;
  /** Refuses the next `count` upgrades with this status and a JSON error body, as the edge does. */
  refuse(status: number, message: string, count?: number): void;
  /** Upgrade requests seen, refused or not. */
  upgrades: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export class FakeConnection {
  readonly ws: WebSocket;
  readonly headers: IncomingHttpHeaders;
  readonly frames: Frame[] = [];
  /** Pings received; answered with "pong" while `answerPings` is true. */
  pings = 0;
  answerPings = true;
  readonly closed: Promise<{ code: number; reason: string }>;
  #listeners = new Set<() => void>();

  constructor(ws: WebSocket, headers: IncomingHttpHeaders) {
    this.ws = ws;
    this.headers = headers;
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on("message", (data, isBinary) => {
      if (!isBinary) {
        if (data.toString() === PING) {
          this.pings++;
          if (this.answerPings) ws.send(PONG);
        }
      } else {
        this.frames.push(decodeFrame(new Uint8Array(data as Buffer)));
      }
      for (const listener of this.#listeners) listener();
    });
  }

  /** Waits for the first frame (after `from`) that matches; bounded. */
  async frame(match: (frame: Frame) => boolean, ms = 5_000, from = 0): Promise<Frame> {
    const found = () => this.frames.slice(from).find(match);
    await until(() => found() !== undefined, ms, "a matching frame from the gateway");
    return found() as Frame;
  }

  async hello(ms = 5_000): Promise<Hello> {
    return decodeJson(await this.frame((f) => f.type === FrameType.Hello, ms), HelloSchema);
  }

  /** `features`: what this edge announces (none by default: it then gets only the basic frames). */
  welcome(tunnel: string, pingIntervalMs = 20_000, features: string[] = []): void {
    const welcome = { protocol: TUNNEL_PROTOCOL_VERSION, tunnel, pingIntervalMs, features };
    this.ws.send(encodeJsonFrame(FrameType.Welcome, 0, welcome));
  }

  open(stream: number, open: Open): void {
    this.ws.send(encodeJsonFrame(FrameType.Open, stream, open));
  }

  /** Open with the whole request body inline (OpenBody). */
  openBody(stream: number, open: Open, body: Uint8Array): void {
    this.ws.send(encodeJsonBodyFrame(FrameType.OpenBody, stream, open, body));
  }

  data(stream: number, bytes: Uint8Array): void {
    this.ws.send(encodeFrame(FrameType.Data, stream, bytes));
  }

  end(stream: number): void {
    this.ws.send(encodeFrame(FrameType.End, stream));
  }

  credit(stream: number, bytes: number): void {
    this.ws.send(encodeCreditFrame(stream, bytes));
  }

  reset(stream: number, reset: Reset): void {
    this.ws.send(encodeJsonFrame(FrameType.Reset, stream, reset));
  }

  async head(stream: number, ms = 5_000): Promise<Head> {
    return decodeJson(await this.frame((f) => f.stream === stream && f.type === FrameType.Head, ms), HeadSchema);
  }

  /** Waits for a HeadBody (the whole response in one frame) on `stream`. */
  async headBody(stream: number, ms = 5_000): Promise<{ head: Head; body: Uint8Array }> {
    const frame = await this.frame((f) => f.stream === stream && f.type === FrameType.HeadBody, ms);
    const { message, body } = decodeJsonBody(frame, HeadSchema);
    return { head: message, body };
  }

  async resetOf(stream: number, ms = 5_000): Promise<Reset> {
    return decodeJson(await this.frame((f) => f.stream === stream && f.type === FrameType.Reset, ms), ResetSchema);
  }

  /** Frames of one stream so far. */
  streamFrames(stream: number): Frame[] {
    return this.frames.filter((f) => f.stream === stream);
  }

  /** Response body bytes received on a stream so far. */
  bodyBytes(stream: number): number {
    return this.streamFrames(stream)
      .filter((f) => f.type === FrameType.Data)
      .reduce((sum, f) => sum + f.payload.byteLength, 0);
  }

  /** Credit the gateway granted on a stream so far. */
  creditGranted(stream: number): number {
    return this.streamFrames(stream)
      .filter((f) => f.type === FrameType.Credit)
      .reduce((sum, f) => sum + decodeCredit(f), 0);
  }

  /** Collects a whole response body (granting credit as it arrives) until END or Reset. */
  async readBody(stream: number, ms = 10_000): Promise<{ body: Uint8Array; ended: "end" | "reset" }> {
    const chunks: Uint8Array[] = [];
    let seen = 0;
    let ended: "end" | "reset" | undefined;
    await within(
      new Promise<void>((resolve) => {
        const pump = () => {
          const frames = this.streamFrames(stream);
          for (; seen < frames.length; seen++) {
            const f = frames[seen] as Frame;
            if (f.type === FrameType.Data) {
              chunks.push(f.payload);
              this.credit(stream, f.payload.byteLength);
            } else if (f.type === FrameType.End) ended = "end";
            else if (f.type === FrameType.Reset) ended = "reset";
          }
          if (ended) {
            this.#listeners.delete(pump);
            resolve();
          }
        };
        this.#listeners.add(pump);
        pump();
      }),
      ms,
      `the body of stream ${stream}`,
    );
    return { body: Buffer.concat(chunks), ended: ended as "end" | "reset" };
  }

  /** Calls `listener` after every message from the gateway (for checks that must hold at all times). */
  onMessage(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Listens on 127.0.0.1, on `port` if given (to bring an edge back where a gateway expects it). */
export async function startFakeEdge(port = 0): Promise<FakeEdge> {
  const connections: FakeConnection[] = [];
  const upgrades: FakeEdge["upgrades"] = [];
  let taken = 0;
  let refusals: { status: number; message: string; count: number } | null = null;
  const server: Server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    upgrades.push({ url: req.url ?? "", headers: req.headers });
    if (refusals && refusals.count > 0) {
      refusals.count--;
      const body = JSON.stringify({ error: { code: "refused", message: refusals.message } });
      socket.end(
        `HTTP/1.1 ${refusals.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    if (!/^\/t\/[^/]+\/connect$/.test(req.url ?? "")) {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connections.push(new FakeConnection(ws, req.headers)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    upgrades,
    async nextConnection(ms = 5_000) {
      await until(() => connections.length > taken, ms, "a gateway connection");
      return connections[taken++] as FakeConnection;
    },
    refuse(status, message, count = 1) {
      refusals = { status, message, count };
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
