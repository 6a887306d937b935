/**
 * Binary framing of the edge⇄gateway tunnel. Every frame is one binary WebSocket message:
 *
 *   byte 0      frame type (FrameType)
 *   bytes 1..4  stream id, unsigned 32-bit big-endian (0 for connection-level frames)
 *   bytes 5..   payload: raw bytes for DATA, a u32 for CREDIT, empty for END, UTF-8 JSON otherwise
 *
 * Body bytes travel as-is (no base64). JSON payloads are validated with the schemas in
 * ./messages.ts at the receiving boundary. Only the edge opens streams.
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

export function encodeFrame(type: FrameType, stream: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.byteLength);
  frame[0] = type;
  new DataView(frame.buffer).setUint32(1, stream);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export function encodeJsonFrame(type: FrameType, stream: number, body: unknown): Uint8Array {
  return encodeFrame(type, stream, encoder.encode(JSON.stringify(body)));
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
  const stream = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  return { type: type as FrameType, stream, payload: bytes.subarray(HEADER_BYTES) };
}

export function decodeCredit(frame: Frame): number {
  if (frame.payload.byteLength !== 4) throw new TetherError("bad_request", "CREDIT payload must be 4 bytes");
  return new DataView(frame.payload.buffer, frame.payload.byteOffset, 4).getUint32(0);
}

/** Decodes a JSON payload and validates it with a zod-like schema. */
export function decodeJson<T>(frame: Frame, schema: { parse(value: unknown): T }): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(frame.payload));
  } catch (cause) {
    throw new TetherError("bad_request", `frame 0x${frame.type.toString(16)} carries invalid JSON`, { cause });
  }
  try {
    return schema.parse(value);
  } catch (cause) {
    throw new TetherError("bad_request", `frame 0x${frame.type.toString(16)} has an invalid payload`, { cause });
  }
}
