/**
 * JSON payloads of the tunnel's control frames (see ./frames.ts). Schemas first, types derived;
 * written with zod/mini (./zod-mini.ts) so the gateway that validates them stays small.
 */
import { EXECUTOR_UPSTREAM_PREFIX, ExecutorAnnouncementSchema } from "./executor-api.ts";
import * as z from "./zod-mini.ts";

/** Optional protocol features a side supports (see Feature in ./version.ts); unknown ones are ignored. */
export const FeaturesSchema = z._default(z.array(z.string().check(z.maxLength(64))).check(z.maxLength(32)), []);

/** Header list as pairs so repeated headers (set-cookie) survive. */
export const HeaderListSchema = z.array(z.tuple([z.string(), z.string()]));
export type HeaderList = z.infer<typeof HeaderListSchema>;

export const ServerNameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "server names are [a-z0-9_-], at most 63"));

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
  features: FeaturesSchema,
  executors: z._default(z.array(ExecutorAnnouncementSchema).check(z.maxLength(64)), []),
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

/** An HTTP request to relay to one of the gateway's servers. */
/** An Open's upstream: a configured server, or an executor as `executor:NAME` (./executor-api.ts). */
const UpstreamNameSchema = z
  .string()
  .check(
    z.regex(
      new RegExp(`^(${EXECUTOR_UPSTREAM_PREFIX})?[a-z0-9][a-z0-9_-]{0,62}$`),
      "upstream names are server names, or executor:NAME",
    ),
  );

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
