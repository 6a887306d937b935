/**
 * The session's standalone GET stream, as the stdio adapter sees it: whether one is connected,
 * and what the server said while none was. A stdio server may ask the client something before the
 * client opened its GET stream (server-everything asks `roots/list` right after `initialized`);
 * the SDK transport would drop such a message and the server would wait for an answer that never
 * comes. So messages meant for the GET stream wait here (bounded) until one connects.
 *
 * A newer GET stream replaces an older one (the older ends cleanly): a client reconnecting after a
 * network blip must not be locked out by a half-open stream the gateway has not noticed yet, and
 * the server process is never touched by a reconnect.
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

const MAX_QUEUED = 256;

export class StandaloneStream {
  readonly #send: (message: JSONRPCMessage) => Promise<void>;
  readonly #log: (line: string) => void;
  #current: symbol | undefined;
  #queue: JSONRPCMessage[] = [];

  constructor(send: (message: JSONRPCMessage) => Promise<void>, log: (line: string) => void) {
    this.#send = send;
    this.#log = log;
  }

  get connected(): boolean {
    return this.#current !== undefined;
  }

  /** Takes over a freshly opened GET stream's response: tracks when it ends, then flushes the queue. */
  async attach(response: Response): Promise<Response> {
    if (!response.body) return response;
    const stream = Symbol("get-stream");
    this.#current = stream;
    const body = observeEnd(response.body, () => {
      if (this.#current === stream) this.#current = undefined;
    });
    const queued = this.#queue;
    this.#queue = [];
    for (const message of queued) await this.deliver(message);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  /** Sends on the GET stream if one is connected, else keeps the message for the next one. */
  async deliver(message: JSONRPCMessage): Promise<void> {
    if (this.#current !== undefined) {
      await this.#send(message);
      return;
    }
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.shift();
      this.#log(`no GET stream connected: dropped the oldest of ${MAX_QUEUED} queued server messages`);
    }
    this.#queue.push(message);
  }
}

/** Passes `body` through unchanged, calling `onEnd` once when it finishes, fails or is cancelled. */
function observeEnd(body: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            end();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          end();
          controller.error(error);
        }
      },
      cancel(reason) {
        end();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
