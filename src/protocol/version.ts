/** Version of the edge⇄gateway tunnel protocol. Bumped on any incompatible frame change. */
export const TUNNEL_PROTOCOL_VERSION = 1;

/** Text frames used as keep-alives. The relay answers them without waking (hibernation auto-response). */
export const PING = "ping";
export const PONG = "pong";

/** Largest DATA payload in one frame; larger bodies are split. */
export const MAX_DATA_FRAME = 64 * 1024;

/**
 * Bytes a sender may have in flight per stream before the receiver grants more (CREDIT frames).
 * Both directions start with this window; receivers grant credit back as they consume.
 */
export const INITIAL_STREAM_WINDOW = 256 * 1024;
