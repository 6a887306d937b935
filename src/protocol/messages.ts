/**
 * JSON payloads of the tunnel's control frames (see ./frames.ts). Schemas first, types derived;
 * written with zod/mini (./zod-mini.ts) so the gateway that validates them stays small.
 */
import { EXECUTOR_UPSTREAM_PREFIX, ExecutorAnnouncementSchema, executorNameOf } from "./executor-api.ts";
import * as z from "./zod-mini.ts";

/** Optional protocol features a side supports (see Feature in ./version.ts); unknown ones are ignored. */
export const FeaturesSchema = z._default(z.array(z.string().check(z.maxLength(64))).check(z.maxLength(32)), []);

/** Header list as pairs so repeated headers (set-cookie) survive. */
export const HeaderListSchema = z.array(z.tuple([z.string(), z.string()]));
export type HeaderList = z.infer<typeof HeaderListSchema>;

const SERVER_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const ServerNameSchema = z.string().check(z.regex(SERVER_NAME, "server names are [a-z0-9_-], at most 63"));

/** Where an Open goes: a configured server by its name, or an executor as `executor:NAME`. */
export const UpstreamNameSchema = z.string().check(
  z.refine((name) => SERVER_NAME.test(executorNameOf(name) ?? name), {
    message: `upstream names are server names ([a-z0-9_-], at most 63) or ${EXECUTOR_UPSTREAM_PREFIX}NAME`,
  }),
);

/** Executors one gateway may announce. */
export const MAX_EXECUTORS = 64;

export const HelloSchema = z.object({
  protocol: z.int(),
  /** Stable per gateway process, so the edge can tell reconnects from new gateways. */
  gatewayId: z.string().check(z.minLength(1), z.maxLength(128)),
  /** The gateway's software version. */
  version: z.string().check(z.maxLength(64)),
  servers: z
    .array(
      z.object({
        name: ServerNameSchema,
        kind: z.enum(["http", "stdio"]),
        /** Extra upstream paths (beyond the MCP endpoint) that agents may reach, e.g. OAuth discovery. */
        allowPaths: z._default(z.array(z.string()), []),
      }),
    )
    .check(z.maxLength(256)),
  /**
   * Sandboxes that run on the gateway's machine, reached as `executor:NAME` (./executor-api.ts).
   * Absent from older gateways; edges from before executors drop the key (zod objects strip
   * unknown keys), so either side may be upgraded first.
   */
  executors: z._default(z.array(ExecutorAnnouncementSchema).check(z.maxLength(MAX_EXECUTORS)), []),
  features: FeaturesSchema,
});
export type Hello = z.infer<typeof HelloSchema>;

export const WelcomeSchema = z.object({
  protocol: z.int(),
  tunnel: z.string(),
  /** How often the gateway should send a PING text frame. */
  pingIntervalMs: z.int().check(z.positive()),
  features: FeaturesSchema,
});
export type Welcome = z.infer<typeof WelcomeSchema>;

export const GoAwaySchema = z.object({ reason: z.string().check(z.maxLength(512)) });
export type GoAway = z.infer<typeof GoAwaySchema>;

/** An HTTP request to relay to one of the gateway's servers or executors. */
export const OpenSchema = z.object({
  server: UpstreamNameSchema,
  method: z.string().check(z.minLength(1), z.maxLength(16)),
  /** Path below the server's endpoint: "" for the MCP endpoint itself, else an allowed extra path. */
  path: z.string().check(z.maxLength(2048)),
  /** Query string including "?", or "". */
  query: z.string().check(z.maxLength(8192)),
  headers: HeaderListSchema,
  /** Whether the request has a body: DATA… END follow an Open; an OpenBody carries it whole. */
  hasBody: z.boolean(),
});
export type Open = z.infer<typeof OpenSchema>;

export const HeadSchema = z.object({
  status: z.int().check(z.minimum(100), z.maximum(599)),
  headers: HeaderListSchema,
});
export type Head = z.infer<typeof HeadSchema>;

export const ResetSchema = z.object({
  /** Machine-readable reason, e.g. "upstream_unavailable", "cancelled", "gateway_draining". */
  code: z.string().check(z.maxLength(64)),
  message: z.string().check(z.maxLength(2048)),
});
export type Reset = z.infer<typeof ResetSchema>;
