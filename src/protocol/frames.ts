/**
 * Binary framing of the edge⇄gateway tunnel. Every frame is one binary WebSocket message:
 *
 *   byte 0      frame type (FrameType)
 *   bytes 1..4  stream id, unsigned 32-bit big-endian (0 for connection-level frames)
 *   bytes 5..   payload: raw bytes for DATA, a u32 for CREDIT, empty for END, UTF-8 JSON otherwise;
 *               OpenBody and HeadBody: u32 JSON length, the JSON, then the whole body's bytes
 *
 * Body bytes travel as-is (no base64). JSON payloads are validated with the schemas in
 * ./messages.ts at the receiving boundary. Only the edge opens streams. OpenBody and HeadBody
 * belong to the optional feature Feature.inlineBodies (./version.ts): sent only to a peer that
 * announced it.
 */
import { TetherError } from "../errors/tether-error.ts";

export const FrameType = {
  /** gateway → edge, stream 0: Hello */
  Hello: 0x01,
  /** edge → gateway, stream 0: Welcome */
  Welcome: 0x02,
  /** gateway → edge, stream 0: GoAway (draining, send no new streams) */
  GoAway: 0x03,
  /** edge → gateway: OpenStream (an HTTP request head) */
  Open: 0x10,
  /** gateway → edge: ResponseHead */
  Head: 0x11,
  /** both: body bytes (request body edge→gateway, response body gateway→edge) */
  Data: 0x12,
  /** both: no more body bytes in this direction */
  End: 0x13,
  /** both: abort the stream (Reset JSON) */
  Reset: 0x14,
  /** both: grant the peer u32 more bytes of DATA on this stream */
  Credit: 0x15,
  /** edge → gateway: Open with the whole request body inline (no DATA or END follow) */
  OpenBody: 0x16,
  /** gateway → edge: Head with the whole response body inline (no DATA or END follow) */
  HeadBody: 0x17,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));
const HEADER_BYTES = 5;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface Frame {
  type: FrameType;
  stream: number;
  payload: Uint8Array;
}

export function encodeFrame(type: FrameType, stream: number, payload?: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + (payload?.byteLength ?? 0));
  writeHeader(frame, type, stream);
  if (payload) frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Just the 5 header bytes of a frame, for senders that put the payload beside it without copying. */
export function encodeFrameHeader(type: FrameType, stream: number): Uint8Array {
  return writeHeader(new Uint8Array(HEADER_BYTES), type, stream);
}

export function encodeJsonFrame(type: FrameType, stream: number, body: unknown): Uint8Array {
  const json = JSON.stringify(body);
  // One allocation: UTF-8 takes at most 3 bytes per UTF-16 unit.
  const frame = new Uint8Array(HEADER_BYTES + json.length * 3);
  const { written } = encoder.encodeInto(json, frame.subarray(HEADER_BYTES));
  writeHeader(frame, type, stream);
  return frame.subarray(0, HEADER_BYTES + written);
}

/** OpenBody / HeadBody: the JSON message and a whole body in one frame. */
export function encodeJsonBodyFrame(type: FrameType, stream: number, message: unknown, body: Uint8Array): Uint8Array {
  const json = encoder.encode(JSON.stringify(message));
  const frame = new Uint8Array(HEADER_BYTES + 4 + json.byteLength + body.byteLength);
  writeHeader(frame, type, stream);
  new DataView(frame.buffer).setUint32(HEADER_BYTES, json.byteLength);
  frame.set(json, HEADER_BYTES + 4);
  frame.set(body, HEADER_BYTES + 4 + json.byteLength);
  return frame;
}

export function encodeCreditFrame(stream: number, bytes: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, bytes);
  return encodeFrame(FrameType.Credit, stream, payload);
}

/** Parses one binary message. Throws a TetherError("bad_request") on anything malformed. */
export function decodeFrame(message: ArrayBuffer | Uint8Array): Frame {
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (bytes.byteLength < HEADER_BYTES) throw new TetherError("bad_request", "frame shorter than its header");
  const type = bytes[0] as number;
  if (!KNOWN_TYPES.has(type)) throw new TetherError("bad_request", `unknown frame type 0x${type.toString(16)}`);
  const stream =
    ((bytes[1] as number) << 24) | ((bytes[2] as number) << 16) | ((bytes[3] as number) << 8) | (bytes[4] as number);
  return { type: type as FrameType, stream: stream >>> 0, payload: bytes.subarray(HEADER_BYTES) };
}

export function decodeCredit(frame: Frame): number {
  if (frame.payload.byteLength !== 4) throw new TetherError("bad_request", "CREDIT payload must be 4 bytes");
  return new DataView(frame.payload.buffer, frame.payload.byteOffset, 4).getUint32(0);
}

/** Decodes a JSON payload and validates it with a zod-like schema. */
export function decodeJson<T>(frame: Frame, schema: { parse(value: unknown): T }): T {
  return parseJson(frame.type, frame.payload, schema);
}

/** Decodes an OpenBody / HeadBody payload: the validated JSON message and the body (a view, not a copy). */
export function decodeJsonBody<T>(
  frame: Frame,
  schema: { parse(value: unknown): T },
): { message: T; body: Uint8Array } {
  const { payload } = frame;
  const length = payload.byteLength >= 4 ? new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0) : -1;
  if (length < 0 || 4 + length > payload.byteLength) {
    throw new TetherError("bad_request", `frame 0x${frame.type.toString(16)} has a bad JSON length`);
  }
  return {
    message: parseJson(frame.type, payload.subarray(4, 4 + length), schema),
    body: payload.subarray(4 + length),
  };
}

function parseJson<T>(type: number, bytes: Uint8Array, schema: { parse(value: unknown): T }): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new TetherError("bad_request", `frame 0x${type.toString(16)} carries invalid JSON`, { cause });
  }
  try {
    return schema.parse(value);
  } catch (cause) {
    throw new TetherError("bad_request", `frame 0x${type.toString(16)} has an invalid payload`, { cause });
  }
}

function writeHeader(frame: Uint8Array, type: FrameType, stream: number): Uint8Array {
  frame[0] = type;
  frame[1] = stream >>> 24;
  frame[2] = (stream >>> 16) & 0xff;
  frame[3] = (stream >>> 8) & 0xff;
  frame[4] = stream & 0xff;
  return frame;
}
