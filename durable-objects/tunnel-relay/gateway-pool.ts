/**
 * The gateways connected to one tunnel: hibernatable WebSockets tagged "gateway" and
 * "token:<id>" (so revoking a token finds its sockets), wrapped in GatewayConnection objects that
 * are rebuilt from attachments after the relay wakes. Also decides which gateway serves a call.
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import { CloseCode, type GatewayAttachment, GatewayConnection } from "./gateway-connection.ts";

const GATEWAY_TAG = "gateway";
const tokenTag = (tokenId: string) => `token:${tokenId}`;

export class GatewayPool {
  readonly #ctx: DurableObjectState;
  readonly #connections = new WeakMap<WebSocket, GatewayConnection>();

  constructor(ctx: DurableObjectState) {
    this.#ctx = ctx;
  }

  accept(ws: WebSocket, tokenId: string): GatewayConnection {
    this.#ctx.acceptWebSocket(ws, [GATEWAY_TAG, tokenTag(tokenId)]);
    const attachment: GatewayAttachment = {
      tokenId,
      connectedAt: Date.now(),
      streamCeiling: 0,
      busy: false,
      hello: null,
      draining: null,
    };
    ws.serializeAttachment(attachment);
    const connection = new GatewayConnection(ws, attachment);
    this.#connections.set(ws, connection);
    return connection;
  }

  /** The connection for a socket, rebuilt from its attachment when the relay restarted. */
  get(ws: WebSocket): GatewayConnection {
    let connection = this.#connections.get(ws);
    if (!connection) {
      const attachment = ws.deserializeAttachment() as GatewayAttachment | null;
      connection = new GatewayConnection(ws, attachment ?? orphanAttachment());
      this.#connections.set(ws, connection);
      if (!attachment || attachment.busy) {
        // This instance never saw the streams the gateway still holds: make it drop them all.
        connection.close(
          CloseCode.restarted,
          "relay restarted; streams in flight were lost",
          new TetherError("gateway_lost", "relay restarted"),
        );
      }
    }
    return connection;
  }

  /** Open connections, said Hello or not. */
  all(): GatewayConnection[] {
    return this.#ctx
      .getWebSockets(GATEWAY_TAG)
      .map((ws) => this.get(ws))
      .filter((connection) => connection.isOpen);
  }

  ready(): GatewayConnection[] {
    return this.all().filter((connection) => connection.isReady);
  }

  withToken(tokenId: string): GatewayConnection[] {
    return this.#ctx.getWebSockets(tokenTag(tokenId)).map((ws) => this.get(ws));
  }

  /** The newest ready connection of a gateway process (a reconnect replaces an older socket). */
  forGateway(gatewayId: string): GatewayConnection | undefined {
    let newest: GatewayConnection | undefined;
    for (const ws of this.#ctx.getWebSockets(GATEWAY_TAG)) {
      const connection = this.get(ws);
      if (connection.hello?.gatewayId !== gatewayId || !connection.isReady) continue;
      if (!newest || connection.connectedAt > newest.connectedAt) newest = connection;
    }
    return newest;
  }

  /**
   * The connection serving executor `name`: the one whose executor is `instance` (the machine
   * holding a sandbox's workspace) when given, else the least busy one announcing it.
   */
  pickExecutor(name: string, instance: string | null): GatewayConnection | undefined {
    let best: GatewayConnection | undefined;
    for (const connection of this.ready()) {
      const executor = connection.executor(name);
      if (!executor || (instance !== null && executor.instance !== instance)) continue;
      if (!best || connection.calls.size < best.calls.size) best = connection;
    }
    return best;
  }

  /** The least busy ready connection that serves `server` at `path`. */
  pick(server: string, path: string): GatewayConnection | undefined {
    let best: GatewayConnection | undefined;
    for (const connection of this.ready()) {
      if (!connection.allowsPath(server, path)) continue;
      if (!best || connection.calls.size < best.calls.size) best = connection;
    }
    return best;
  }
}

function orphanAttachment(): GatewayAttachment {
  return { tokenId: "", connectedAt: 0, streamCeiling: 0, busy: true, hello: null, draining: null };
}
