/**
 * Decides which HTTP stream carries each message a stdio server writes. stdio has no notion of
 * streams, so the router keeps the bookkeeping the Streamable HTTP transport needs:
 *
 * - responses go out on the stream of the request they answer;
 * - progress goes out on the stream of the request whose `_meta.progressToken` it carries
 *   (progress for a request that already finished or was cancelled is dropped: no one awaits it);
 * - server-to-client requests (sampling, elicitation, roots) and logging notifications go out on
 *   the stream of the most recent client request still in flight, else on the standalone GET
 *   stream; a server's `notifications/cancelled` for one of its requests follows that request;
 * - everything else (list_changed, resource updates, ...) goes out on the GET stream.
 *
 * State (all in memory, per MCP session): client requests in flight in arrival order, their
 * progress tokens, and the server's own requests still awaiting the client's answer.
 */
import type { JSONRPCMessage, ProgressToken, RequestId } from "@modelcontextprotocol/sdk/types.js";

export type Destination =
  | { kind: "request"; requestId: RequestId }
  | { kind: "standalone" }
  | { kind: "drop"; why: string };

const STANDALONE: Destination = { kind: "standalone" };

export class MessageRouter {
  /** Client requests forwarded to the server, not yet answered. Map order = arrival order. */
  readonly #inFlight = new Map<RequestId, ProgressToken | undefined>();
  readonly #progress = new Map<ProgressToken, RequestId>();
  /** Server-to-client requests awaiting the client → the client request whose stream carried them. */
  readonly #serverRequests = new Map<RequestId, RequestId | undefined>();

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  inFlightIds(): RequestId[] {
    return [...this.#inFlight.keys()];
  }

  /**
   * Records a message the client sent to the server. Returns the id of the client request it
   * cancels, if it is a `notifications/cancelled` for a request still in flight.
   */
  fromClient(message: JSONRPCMessage): RequestId | undefined {
    if ("method" in message) {
      if ("id" in message) {
        const token = message.params?._meta?.progressToken;
        this.#inFlight.set(message.id, token);
        if (token !== undefined) this.#progress.set(token, message.id);
        return undefined;
      }
      if (message.method === "notifications/cancelled") {
        const id = message.params?.requestId;
        if ((typeof id === "string" || typeof id === "number") && this.#inFlight.has(id)) {
          this.#settle(id);
          return id;
        }
      }
      return undefined;
    }
    // The client's answer to a server-to-client request.
    if (message.id !== undefined) this.#serverRequests.delete(message.id);
    return undefined;
  }

  /** Routes a message the server sent to the client. */
  toClient(message: JSONRPCMessage): Destination {
    if (!("method" in message)) {
      // A response: its id names its stream. One for a cancelled request still goes to the
      // transport, which then forgets that request (the client has stopped listening).
      if (message.id === undefined) return { kind: "drop", why: "error response without an id" };
      this.#settle(message.id);
      return { kind: "request", requestId: message.id };
    }
    if ("id" in message) {
      const carrier = this.#mostRecent();
      this.#serverRequests.set(message.id, carrier);
      return carrier === undefined ? STANDALONE : { kind: "request", requestId: carrier };
    }
    switch (message.method) {
      case "notifications/progress": {
        const token = message.params?.progressToken;
        const owner = typeof token === "string" || typeof token === "number" ? this.#progress.get(token) : undefined;
        return owner === undefined
          ? { kind: "drop", why: `progress for a finished request (token ${String(token)})` }
          : { kind: "request", requestId: owner };
      }
      case "notifications/cancelled": {
        const id = message.params?.requestId;
        const carrier =
          typeof id === "string" || typeof id === "number" ? this.#serverRequests.get(id) : this.#mostRecent();
        if (typeof id === "string" || typeof id === "number") this.#serverRequests.delete(id);
        return carrier !== undefined && this.#inFlight.has(carrier)
          ? { kind: "request", requestId: carrier }
          : STANDALONE;
      }
      case "notifications/message": {
        const carrier = this.#mostRecent();
        return carrier === undefined ? STANDALONE : { kind: "request", requestId: carrier };
      }
      default:
        return STANDALONE;
    }
  }

  #settle(id: RequestId): void {
    if (!this.#inFlight.has(id)) return;
    const token = this.#inFlight.get(id);
    this.#inFlight.delete(id);
    if (token !== undefined && this.#progress.get(token) === id) this.#progress.delete(token);
  }

  #mostRecent(): RequestId | undefined {
    let last: RequestId | undefined;
    for (const id of this.#inFlight.keys()) last = id;
    return last;
  }
}
