/**
 * Reads what a gateway sends (the boundary: every frame is validated here) and hands it to the
 * right stream. Anything malformed or out of order throws; the relay then closes that one socket
 * with the code carried by the error (4400 protocol, 4426 version) and keeps serving the others.
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import {
  decodeCredit,
  decodeFrame,
  decodeJson,
  decodeJsonBody,
  encodeJsonFrame,
  type Frame,
  FrameType,
} from "../../src/protocol/frames.ts";
import { GoAwaySchema, HeadSchema, HelloSchema, ResetSchema, type Welcome } from "../../src/protocol/messages.ts";
import { Feature, PING, PONG, TUNNEL_PROTOCOL_VERSION } from "../../src/protocol/version.ts";
import { CloseCode, GatewayCloseError, type GatewayConnection } from "./gateway-connection.ts";

/** How often gateways send "ping"; answered by the hibernation auto-response without waking the relay. */
export const PING_INTERVAL_MS = 20_000;

export function handleGatewayMessage(
  connection: GatewayConnection,
  message: string | ArrayBuffer,
  tunnel: string,
): void {
  if (typeof message === "string") {
    // The auto-response answers "ping" while the relay hibernates; this path is when it is awake.
    if (message === PING) {
      connection.ws.send(PONG);
      return;
    }
    throw protocolError('unexpected text frame (only "ping" is allowed)');
  }
  const frame = decodeFrame(message);
  if (connection.hello === null) {
    if (frame.type !== FrameType.Hello) throw protocolError("the first frame must be Hello");
    welcome(connection, frame, tunnel);
    return;
  }
  switch (frame.type) {
    case FrameType.Hello:
      throw protocolError("duplicate Hello");
    case FrameType.GoAway:
      requireConnectionFrame(frame);
      connection.setDraining(decodeJson(frame, GoAwaySchema).reason);
      return;
    case FrameType.Welcome:
    case FrameType.Open:
    case FrameType.OpenBody:
      throw protocolError(`frame 0x${frame.type.toString(16)} is only sent by the edge`);
    default:
      streamFrame(connection, frame);
  }
}

function welcome(connection: GatewayConnection, frame: Frame, tunnel: string): void {
  requireConnectionFrame(frame);
  const hello = decodeJson(frame, HelloSchema);
  if (hello.protocol !== TUNNEL_PROTOCOL_VERSION) {
    throw new GatewayCloseError(
      CloseCode.version,
      `tunnel protocol ${hello.protocol} is not supported; this edge speaks ${TUNNEL_PROTOCOL_VERSION}`,
    );
  }
  const names = hello.servers.map((server) => server.name);
  if (new Set(names).size !== names.length) throw protocolError("Hello lists a server name twice");
  const executors = hello.executors.map((executor) => executor.name);
  if (new Set(executors).size !== executors.length) throw protocolError("Hello lists an executor name twice");
  connection.setHello(hello);
  const answer: Welcome = {
    protocol: TUNNEL_PROTOCOL_VERSION,
    tunnel,
    pingIntervalMs: PING_INTERVAL_MS,
    features: [Feature.inlineBodies],
  };
  connection.send(encodeJsonFrame(FrameType.Welcome, 0, answer));
}

function streamFrame(connection: GatewayConnection, frame: Frame): void {
  if (frame.stream === 0) throw protocolError(`frame 0x${frame.type.toString(16)} needs a stream id`);
  const handler = connection.calls.get(frame.stream);
  if (!handler) {
    if (!connection.wasOpened(frame.stream)) throw protocolError(`stream ${frame.stream} was never opened`);
    // A frame that crossed our own Reset or END is normal; one for a stream lost in a restart is reset once.
    if (frame.type !== FrameType.Reset && connection.shouldResetUnknown(frame.stream)) {
      connection.sendReset(frame.stream, { code: "internal", message: "unknown stream" });
    }
    return;
  }
  switch (frame.type) {
    case FrameType.Head:
      handler.onHead(decodeJson(frame, HeadSchema));
      return;
    case FrameType.HeadBody: {
      const { message, body } = decodeJsonBody(frame, HeadSchema);
      handler.onHead(message, body);
      return;
    }
    case FrameType.Data:
      handler.onData(frame.payload);
      return;
    case FrameType.End:
      handler.onEnd();
      return;
    case FrameType.Reset:
      handler.onReset(decodeJson(frame, ResetSchema));
      return;
    case FrameType.Credit:
      handler.onCredit(decodeCredit(frame));
      return;
  }
}

function requireConnectionFrame(frame: Frame): void {
  if (frame.stream !== 0) throw protocolError(`frame 0x${frame.type.toString(16)} must use stream 0`);
}

export function protocolError(message: string): GatewayCloseError {
  return new GatewayCloseError(CloseCode.protocol, message);
}

/** The close code and reason for anything a message handler threw. */
export function closeFor(error: unknown): { code: number; reason: string } {
  if (error instanceof GatewayCloseError) return { code: error.closeCode, reason: error.message };
  if (error instanceof TetherError && error.code === "bad_request")
    return { code: CloseCode.protocol, reason: error.message };
  console.error("gateway message failed", error);
  return { code: CloseCode.internal, reason: "internal error" };
}
