/**
 * Session events of Claude Managed Agents that the self-hosted worker reads from
 * `/v1/sessions/{id}/events[/stream]` and the ones it sends. The stream carries many more types
 * than the worker acts on: an unknown type parses as `{type:"other", event_type}` instead of failing,
 * while a known type with a malformed body is still refused (a broken tool use must be noticed).
 */
import { z } from "zod";

const EventBase = { id: z.string().min(1), created_at: z.optional(z.string()) };

// ---- content blocks of tool results -------------------------------------------------------------

const TextBlockSchema = z.looseObject({ type: z.literal("text"), text: z.string() });
const Base64Source = z.looseObject({ type: z.literal("base64"), media_type: z.string(), data: z.string() });
const UrlSource = z.looseObject({ type: z.literal("url"), url: z.string() });
const FileSource = z.looseObject({ type: z.literal("file"), file_id: z.string() });
const TextSource = z.looseObject({ type: z.literal("text"), media_type: z.optional(z.string()), data: z.string() });

export const ContentBlockSchema = z.discriminatedUnion("type", [
  TextBlockSchema,
  z.looseObject({
    type: z.literal("image"),
    source: z.discriminatedUnion("type", [Base64Source, UrlSource, FileSource]),
  }),
  z.looseObject({
    type: z.literal("document"),
    source: z.discriminatedUnion("type", [Base64Source, TextSource, UrlSource, FileSource]),
    title: z.optional(z.string()),
  }),
  z.looseObject({
    type: z.literal("search_result"),
    source: z.string(),
    title: z.string(),
    content: z.array(TextBlockSchema),
  }),
]);
export type ContentBlock = z.infer<typeof ContentBlockSchema>;

// ---- what the worker sends ----------------------------------------------------------------------

/** The answer to an `agent.tool_use` (the kind must match the call, or the session hangs). */
export const UserToolResultSchema = z.object({
  type: z.literal("user.tool_result"),
  tool_use_id: z.string().min(1),
  content: z.optional(z.array(ContentBlockSchema)),
  is_error: z.optional(z.boolean()),
});
export type UserToolResult = z.infer<typeof UserToolResultSchema>;

/** The answer to an `agent.custom_tool_use`. */
export const UserCustomToolResultSchema = z.object({
  type: z.literal("user.custom_tool_result"),
  custom_tool_use_id: z.string().min(1),
  content: z.optional(z.array(ContentBlockSchema)),
  is_error: z.optional(z.boolean()),
});
export type UserCustomToolResult = z.infer<typeof UserCustomToolResultSchema>;

/** A client application's verdict on a held tool use; `result` is kept open (unknown verdicts deny). */
export const UserToolConfirmationSchema = z.object({
  type: z.literal("user.tool_confirmation"),
  tool_use_id: z.string().min(1),
  result: z.string(),
  deny_message: z.optional(z.string()),
});
export type UserToolConfirmation = z.infer<typeof UserToolConfirmationSchema>;

/** What `POST /v1/sessions/{id}/events` takes from a worker or a client application. */
export const OutgoingEventSchema = z.discriminatedUnion("type", [
  UserToolResultSchema,
  UserCustomToolResultSchema,
  UserToolConfirmationSchema,
]);
export type OutgoingEvent = z.infer<typeof OutgoingEventSchema>;

export const SendEventsBodySchema = z.object({ events: z.array(OutgoingEventSchema).min(1) });
export type SendEventsBody = z.infer<typeof SendEventsBodySchema>;

// ---- what the worker reads ----------------------------------------------------------------------

/** `always_ask` arrives as `ask`; absent means allowed. Kept open: an unknown verdict is held. */
export const EvaluatedPermissionSchema = z.string();

export const AgentToolUseSchema = z.looseObject({
  ...EventBase,
  type: z.literal("agent.tool_use"),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  evaluated_permission: z.optional(EvaluatedPermissionSchema),
  session_thread_id: z.nullish(z.string()),
});
export type AgentToolUse = z.infer<typeof AgentToolUseSchema>;

export const AgentCustomToolUseSchema = z.looseObject({
  ...EventBase,
  type: z.literal("agent.custom_tool_use"),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
export type AgentCustomToolUse = z.infer<typeof AgentCustomToolUseSchema>;

export const StopReasonSchema = z.union([
  z.looseObject({ type: z.literal("requires_action"), event_ids: z.array(z.string()) }),
  z.looseObject({ type: z.string().refine((type) => type !== "requires_action") }),
]);
export type StopReason = z.infer<typeof StopReasonSchema>;

export const SessionStatusIdleSchema = z.looseObject({
  ...EventBase,
  type: z.literal("session.status_idle"),
  stop_reason: StopReasonSchema,
});
export type SessionStatusIdle = z.infer<typeof SessionStatusIdleSchema>;

const KnownEventSchema = z.discriminatedUnion("type", [
  AgentToolUseSchema,
  AgentCustomToolUseSchema,
  z.looseObject({ ...EventBase, ...UserToolConfirmationSchema.shape }),
  z.looseObject({ ...EventBase, ...UserToolResultSchema.shape }),
  z.looseObject({ ...EventBase, ...UserCustomToolResultSchema.shape }),
  SessionStatusIdleSchema,
  z.looseObject({ ...EventBase, type: z.literal("session.status_running") }),
  z.looseObject({ ...EventBase, type: z.literal("session.status_terminated") }),
  z.looseObject({ ...EventBase, type: z.literal("session.deleted") }),
]);

const KNOWN_TYPES: ReadonlySet<string> = new Set(KnownEventSchema.options.map((option) => option.shape.type.value));

/** Any other event on the stream: kept with its id (for dedupe) but not acted on. */
const OtherEventSchema = z
  .looseObject({ type: z.string().refine((type) => !KNOWN_TYPES.has(type)), id: z.optional(z.string()) })
  .transform((event) => ({ type: "other" as const, event_type: event.type, id: event.id }));

export const SessionEventSchema = z.union([KnownEventSchema, OtherEventSchema]);
export type SessionEvent = z.infer<typeof SessionEventSchema>;
/** An event as it is written on the wire (before unknown types are folded into `other`). */
export type SessionEventInput = z.input<typeof KnownEventSchema>;

export const SessionEventListSchema = z.looseObject({
  data: z.array(SessionEventSchema),
  next_page: z.nullish(z.string()),
});
export type SessionEventList = z.infer<typeof SessionEventListSchema>;

/** `POST /v1/sessions/{id}/events` answers the events as recorded, each with its id. */
export const SendEventsResponseSchema = z.looseObject({ data: z.array(SessionEventSchema) });
export type SendEventsResponse = z.infer<typeof SendEventsResponseSchema>;
