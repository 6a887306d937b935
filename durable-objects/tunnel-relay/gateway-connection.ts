/**
 * One gateway's WebSocket as the relay sees it. The socket is hibernatable, so everything that
 * must survive hibernation is in its attachment (GatewayAttachment); the streams in flight are
 * memory only (a call in flight keeps the object awake, see ./storage.ts).
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import { isPathAllowed } from "../../src/protocol/allow-paths.ts";
import { truncateCloseReason } from "../../src/protocol/close-reason.ts";
import type { ExecutorAnnouncement } from "../../src/protocol/executor-api.ts";
import { encodeJsonFrame, FrameType } from "../../src/protocol/frames.ts";
import type { Head, Hello, Reset } from "../../src/protocol/messages.ts";

export type GatewayServer = Hello["servers"][number];

export interface GatewayAttachment {
  tokenId: string;
  connectedAt: number;
  /**
   * Stream ids up to here may have been used by this socket. Ids are reserved in blocks, so a
   * relay that restarts under a live socket continues above every id it ever sent: a late frame
   * for an old stream can never be mistaken for a new one.
   */
  streamCeiling: number;
  /**
   * True while streams are open (cleared IDLE_MARK_MS after the last one ended, so a steady flow
   * of calls does not rewrite the attachment twice per call). A restarted relay that finds it set
   * knows streams may have been lost and closes the socket (1012); the gateway reconnects at once.
   */
  busy: boolean;
  /** `features` and `executors` are missing in attachments written before they existed. */
  hello: {
    gatewayId: string;
    version: string;
    servers: GatewayServer[];
    features?: string[];
    executors?: ExecutorAnnouncement[];
  } | null;
  /** GoAway reason once the gateway drains: no new streams go to it. */
  draining: string | null;
}

/** The relay's side of one stream (implemented by RelayCall). */
export interface StreamHandler {
  /** Head; with `body`, a HeadBody (the whole response; no DATA or END follow). */
  onHead(head: Head, body?: Uint8Array): void;
  onData(chunk: Uint8Array): void;
  onEnd(): void;
  onReset(reset: Reset): void;
  onCredit(bytes: number): void;
  /** The connection is gone (closed, protocol error, token revoked, tunnel deleted). */
  fail(error: TetherError): void;
}

/** A reason to close a gateway's socket, with the WebSocket close code to use. */
export class GatewayCloseError extends Error {
  readonly closeCode: number;
  constructor(closeCode: number, message: string) {
    super(message);
    this.name = "GatewayCloseError";
    this.closeCode = closeCode;
  }
}

export const CloseCode = {
  normal: 1000,
  internal: 1011,
  restarted: 1012,
  protocol: 4400,
  revoked: 4401,
  version: 4426,
} as const;

const STREAM_ID_BLOCK = 1 << 16;
/** How long a socket without streams waits before its attachment says so (see `busy`). */
const IDLE_MARK_MS = 1_000;
/** serializeAttachment allows 16 KiB; the Hello's server list is the only unbounded part. */
const MAX_ATTACHMENT_JSON = 12 * 1024;
const REMEMBERED_CLOSED_STREAMS = 1024;

export class GatewayConnection {
  readonly ws: WebSocket;
  readonly calls = new Map<number, StreamHandler>();
  #attachment: GatewayAttachment;
  #nextStream: number;
  /** Streams this relay ended recently: late frames for them are dropped without an answer. */
  #closedStreams = new Set<number>();
  #closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ws: WebSocket, attachment: GatewayAttachment) {
    this.ws = ws;
    this.#attachment = attachment;
    this.#nextStream = attachment.streamCeiling + 1;
  }

  /** Usable for sending: not closed by the relay, and the peer has not started closing. */
  get isOpen(): boolean {
    return !this.#closed && this.ws.readyState === WebSocket.OPEN;
  }
  /**
   * Closed by the relay. Frames that arrive on a socket the peer is closing (it sent them before
   * its close frame) still count, so receiving only stops here.
   */
  get closedByRelay(): boolean {
    return this.#closed;
  }
  get tokenId(): string {
    return this.#attachment.tokenId;
  }
  get connectedAt(): number {
    return this.#attachment.connectedAt;
  }
  get hello(): GatewayAttachment["hello"] {
    return this.#attachment.hello;
  }
  get draining(): string | null {
    return this.#attachment.draining;
  }
  /** Ready for new streams: said Hello, not draining, still open. */
  get isReady(): boolean {
    return this.isOpen && this.hello !== null && this.draining === null;
  }

  get announcesExecutors(): boolean {
    return (this.hello?.executors?.length ?? 0) > 0;
  }

  /** The executor this gateway announced under `name`, if any. */
  executor(name: string): ExecutorAnnouncement | undefined {
    return this.hello?.executors?.find((executor) => executor.name === name);
  }

  server(name: string): GatewayServer | undefined {
    return this.hello?.servers.find((server) => server.name === name);
  }

  /** Whether the gateway announced an optional protocol feature (Feature in src/protocol/version.ts). */
  supports(feature: string): boolean {
    return this.hello?.features?.includes(feature) ?? false;
  }

  /** "" is the MCP endpoint; anything else must be a safe path the server's allowPaths admit (decoded). */
  allowsPath(name: string, path: string): boolean {
    const server = this.server(name);
    return server !== undefined && isPathAllowed(server.allowPaths, path);
  }

  setHello(hello: Hello): void {
    const next = {
      ...this.#attachment,
      hello: {
        gatewayId: hello.gatewayId,
        version: hello.version,
        servers: hello.servers,
        features: hello.features,
        executors: hello.executors,
      },
    };
    if (JSON.stringify(next).length > MAX_ATTACHMENT_JSON) {
      throw new GatewayCloseError(CloseCode.protocol, "Hello too large: announce fewer servers, paths or executors");
    }
    this.#persist(next);
  }

  setDraining(reason: string): void {
    this.#persist({ ...this.#attachment, draining: reason || "draining" });
  }

  /** Allocates the next stream id for `handler`. */
  openStream(handler: StreamHandler): number {
    const id = this.#nextStream++;
    this.calls.set(id, handler);
    const update: Partial<GatewayAttachment> = {};
    if (id > this.#attachment.streamCeiling) update.streamCeiling = id - 1 + STREAM_ID_BLOCK;
    if (!this.#attachment.busy) update.busy = true;
    if (Object.keys(update).length > 0) this.#persist({ ...this.#attachment, ...update });
    return id;
  }

  closeStream(id: number): void {
    if (!this.calls.delete(id)) return;
    this.#rememberClosed(id);
    if (this.calls.size === 0 && this.#attachment.busy)
      this.#idleTimer ??= setTimeout(() => this.#markIdle(), IDLE_MARK_MS);
  }

  #markIdle(): void {
    this.#idleTimer = undefined;
    if (this.calls.size === 0 && this.#attachment.busy && this.isOpen)
      this.#persist({ ...this.#attachment, busy: false });
  }

  /** True for ids this socket has used; frames for never-opened ids are protocol errors. */
  wasOpened(id: number): boolean {
    return id > 0 && id < this.#nextStream;
  }

  /**
   * A frame arrived for a stream the relay no longer knows. Returns true the first time for a
   * stream it did not end itself (lost in a restart), so the caller resets it once.
   */
  shouldResetUnknown(id: number): boolean {
    if (this.#closedStreams.has(id)) return false;
    this.#rememberClosed(id);
    return true;
  }

  send(frame: Uint8Array): void {
    if (!this.isOpen) throw new TetherError("gateway_lost", "the gateway's connection is closed");
    this.ws.send(frame);
  }

  sendReset(stream: number, reset: Reset): void {
    try {
      this.send(encodeJsonFrame(FrameType.Reset, stream, reset));
    } catch {
      // Connection already gone: the gateway drops all its streams with it.
    }
  }

  /** Fails every stream on this connection and closes the socket (idempotent). */
  close(code: number, reason: string, error: TetherError): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.failAll(error);
    try {
      this.ws.close(code, truncateCloseReason(reason));
    } catch {
      // Already closing or closed.
    }
  }

  failAll(error: TetherError): void {
    for (const handler of [...this.calls.values()]) handler.fail(error);
    this.calls.clear();
  }

  #rememberClosed(id: number): void {
    this.#closedStreams.add(id);
    if (this.#closedStreams.size > REMEMBERED_CLOSED_STREAMS) {
      const oldest = this.#closedStreams.values().next().value;
      if (oldest !== undefined) this.#closedStreams.delete(oldest);
    }
  }

  #persist(attachment: GatewayAttachment): void {
    this.#attachment = attachment;
    this.ws.serializeAttachment(attachment);
  }
}
