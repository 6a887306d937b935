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

/**
 * Receivers grant credit back in batches of this size, never per frame: a body smaller than this
 * costs no Credit frame at all. A quarter of the window, so a sender never waits on a batch that
 * cannot fill (the receiver then holds at least three quarters of the window, which it drains).
 */
export const CREDIT_BATCH = INITIAL_STREAM_WINDOW / 4;

/**
 * Optional protocol features, announced in Hello (by the gateway) and Welcome (by the edge). A
 * side uses a feature towards its peer only when the peer announced it, so either side may be
 * older than the other: unknown features are ignored, and no frame the peer does not know is sent.
 */
export const Feature = {
  /**
   * Small complete bodies travel inside the frame that starts them: OpenBody (Open + the whole
   * request body) and HeadBody (Head + the whole response body), no DATA or END following. A
   * small call then takes one message each way instead of Open, DATA, END / Head, DATA, END.
   */
  inlineBodies: "inline-bodies",
} as const;

/** Largest body sent inline (OpenBody, HeadBody); larger or still streaming bodies go as DATA within credit. */
export const MAX_INLINE_BODY = MAX_DATA_FRAME;
