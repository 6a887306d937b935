/**
 * The streams of one tunnel connection. The edge opens them (Open or OpenBody with a fresh id) and both sides
 * then exchange DATA, END, Credit and Reset by id; this table hands each frame to its stream.
 * Frames for a stream that already ended here are dropped (they crossed our END or Reset).
 *
 * Lifecycle: built when the edge's Welcome arrives, dropped with the socket. `drain()` refuses new
 * streams (Reset "gateway_draining") while the ones in flight finish; `abandonAll` stops everything
 * when the socket is gone.
 */
import { TetherError } from "../errors/tether-error.ts";
import { decodeCredit, decodeJson, decodeJsonBody, type Frame, FrameType } from "../protocol/frames.ts";
import { type Open, OpenSchema, ResetSchema } from "../protocol/messages.ts";
import { type ResetCode, type StreamEnvironment, TunnelStream } from "./tunnel-stream.ts";

export class StreamMux {
  readonly #env: StreamEnvironment;
  readonly #streams = new Map<number, TunnelStream>();
  #highestId = 0;
  #draining = false;
  #idleWaiters: Array<() => void> = [];

  constructor(env: StreamEnvironment) {
    this.#env = { ...env, draining: () => this.#draining };
  }

  /** Streams in flight. */
  get size(): number {
    return this.#streams.size;
  }

  /** Handles one frame from the edge; throws a TetherError("bad_request") on a protocol violation. */
  handle(frame: Frame): void {
    if (frame.type === FrameType.Open || frame.type === FrameType.OpenBody) {
      this.#open(frame);
      return;
    }
    if (frame.stream === 0) throw protocolError(`frame 0x${frame.type.toString(16)} is not a stream frame`);
    const stream = this.#streams.get(frame.stream);
    switch (frame.type) {
      case FrameType.Data:
        if (frame.stream > this.#highestId) throw protocolError(`DATA for stream ${frame.stream}, never opened`);
        stream?.onData(frame.payload);
        return;
      case FrameType.End:
        stream?.onEnd();
        return;
      case FrameType.Credit: {
        const bytes = decodeCredit(frame);
        stream?.onCredit(bytes);
        return;
      }
      case FrameType.Reset: {
        const reset = decodeJson(frame, ResetSchema);
        if (stream) {
          stream.onReset(reset);
          this.#forget(stream);
        }
        return;
      }
      default:
        throw protocolError(`frame 0x${frame.type.toString(16)} is not sent by the edge`);
    }
  }

  /** Refuses new streams from now on; calls in flight go on, standing event streams end now. */
  drain(): void {
    this.#draining = true;
    for (const stream of this.#streams.values()) if (stream.isEventStream) stream.endEventStream();
  }

  /** Resolves once no stream is in flight. */
  idle(): Promise<void> {
    if (this.#streams.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Ends every stream in flight with a Reset (the socket still works). */
  resetAll(code: ResetCode, message: string): void {
    for (const stream of [...this.#streams.values()]) {
      stream.reset(code, message);
      this.#forget(stream);
    }
  }

  /** The socket is gone: stop every upstream call without sending anything. */
  abandonAll(reason: Error): void {
    for (const stream of [...this.#streams.values()]) {
      stream.abandon(reason);
      this.#forget(stream);
    }
  }

  #open(frame: Frame): void {
    const id = frame.stream;
    if (id <= this.#highestId) throw protocolError(`Open reuses stream id ${id}`);
    this.#highestId = id;
    const stream =
      frame.type === FrameType.OpenBody
        ? this.#withBody(id, decodeJsonBody(frame, OpenSchema))
        : new TunnelStream(id, decodeJson(frame, OpenSchema), this.#env);
    if (this.#draining) {
      stream.reset("gateway_draining", "the gateway is shutting down");
      return;
    }
    this.#streams.set(id, stream);
    void stream.run().finally(() => this.#forget(stream));
  }

  #withBody(id: number, { message, body }: { message: Open; body: Uint8Array }): TunnelStream {
    if (!message.hasBody) throw protocolError(`OpenBody for stream ${id} says the request has no body`);
    return new TunnelStream(id, message, this.#env, body);
  }

  #forget(stream: TunnelStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    if (this.#streams.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function protocolError(message: string): TetherError {
  return new TetherError("bad_request", message);
}
