/**
 * The stand-in's HTTP surface: exactly the endpoints of the protocol document, each with the beta
 * header it needs, its auth rule and its answers. `?beta=true` (added by the SDKs) is ignored.
 */
import { z } from "zod";
import {
  HeartbeatQuerySchema,
  MemoryCreateSchema,
  MemoryUpdateSchema,
  PollQuerySchema,
  SendEventsBodySchema,
  StopBodySchema,
} from "../../../src/managed-agents/protocol.ts";
import { type Principal, requireEnvironment, requireMemory, requireSession, requireWork } from "./auth.ts";
import { ApiError, badRequest, parseWith, queryOf, readJson } from "./http.ts";
import type { StandInState } from "./state.ts";
import { workJson } from "./work-record.ts";

export const BETA = {
  managedAgents: "managed-agents-2026-04-01",
  skills: "skills-2025-10-02",
  memory: "agent-memory-2026-07-22",
} as const;

export interface CallContext {
  request: Request;
  url: URL;
  params: string[];
  principal: Principal;
  signal: AbortSignal;
  state: StandInState;
}

export interface Route {
  method: string;
  pattern: RegExp;
  beta: string;
  handle(context: CallContext): Promise<Response> | Response;
}

const ENV = "/v1/environments/([^/]+)/work";
const WorkMetadataBodySchema = z.object({ metadata: z.record(z.string(), z.string()) });
const json = (value: unknown) => Response.json(value);

function limitOf(url: URL, fallback: number, max: number): number {
  const raw = url.searchParams.get("limit");
  if (raw === null) return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw badRequest(`limit must be 1–${max}`);
  return limit;
}

function page<T>(items: T[], url: URL, fallback: number, max: number): { data: T[]; next_page: string | null } {
  const limit = limitOf(url, fallback, max);
  const offset = Number(url.searchParams.get("page") ?? "0");
  if (!Number.isInteger(offset) || offset < 0) throw badRequest("page is not a page token from this list");
  const data = items.slice(offset, offset + limit);
  return { data, next_page: offset + data.length < items.length ? String(offset + data.length) : null };
}

export const ROUTES: Route[] = [
  {
    method: "GET",
    pattern: new RegExp(`^${ENV}/poll$`),
    beta: BETA.managedAgents,
    handle: async ({ url, params: [env = ""], principal, state, request, signal }) => {
      requireEnvironment(principal, env);
      const query = parseWith(PollQuerySchema, queryOf(url), "poll query");
      const workerId = request.headers.get("anthropic-worker-id") ?? "";
      const work = await state.queue.poll(env, query, workerId, signal);
      return json(work ? workJson(work) : null);
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^${ENV}/stats$`),
    beta: BETA.managedAgents,
    handle: ({ params: [env = ""], principal, state }) => {
      requireEnvironment(principal, env);
      return json(state.queue.stats(env));
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^${ENV}$`),
    beta: BETA.managedAgents,
    handle: ({ url, params: [env = ""], principal, state }) => {
      requireEnvironment(principal, env);
      return json(page(state.queue.list(env).map(workJson), url, 20, 100));
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^${ENV}/([^/]+)/ack$`),
    beta: BETA.managedAgents,
    handle: ({ params: [env = "", id = ""], principal, state }) => {
      requireEnvironment(principal, env);
      return json(workJson(state.queue.ack(env, id)));
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^${ENV}/([^/]+)/heartbeat$`),
    beta: BETA.managedAgents,
    handle: ({ url, params: [env = "", id = ""], principal, state }) => {
      requireWork(principal, env, id);
      const query = parseWith(HeartbeatQuerySchema, queryOf(url), "heartbeat query");
      return json(state.queue.heartbeat(env, id, query));
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^${ENV}/([^/]+)/stop$`),
    beta: BETA.managedAgents,
    handle: async ({ request, params: [env = "", id = ""], principal, state }) => {
      requireWork(principal, env, id);
      const body = parseWith(StopBodySchema, await readJson(request), "stop body");
      return json(workJson(state.queue.stop(env, id, body.force ?? false)));
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^${ENV}/([^/]+)$`),
    beta: BETA.managedAgents,
    handle: ({ params: [env = "", id = ""], principal, state }) => {
      requireWork(principal, env, id);
      return json(workJson(state.queue.find(env, id)));
    },
  },
  {
    method: "POST",
    pattern: new RegExp(`^${ENV}/([^/]+)$`),
    beta: BETA.managedAgents,
    handle: async ({ request, params: [env = "", id = ""], principal, state }) => {
      requireWork(principal, env, id);
      const body = parseWith(WorkMetadataBodySchema, await readJson(request), "work update");
      const record = state.queue.find(env, id);
      Object.assign(record.metadata, body.metadata);
      return json(workJson(record));
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/sessions\/([^/]+)$/,
    beta: BETA.managedAgents,
    handle: ({ params: [sid = ""], principal, state }) => {
      const session = state.sessions.get(sid);
      requireSession(principal, session);
      return json({
        type: "session",
        id: session.id,
        environment_id: session.environmentId,
        agent: { type: "agent", skills: session.skills },
        resources: session.resources,
      });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/sessions\/([^/]+)\/events\/stream$/,
    beta: BETA.managedAgents,
    handle: ({ params: [sid = ""], principal, state, signal }) => {
      requireSession(principal, state.sessions.get(sid));
      return state.sessions.openStream(sid, signal);
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/sessions\/([^/]+)\/events$/,
    beta: BETA.managedAgents,
    handle: ({ url, params: [sid = ""], principal, state }) => {
      requireSession(principal, state.sessions.get(sid));
      const order = url.searchParams.get("order") ?? "asc";
      if (order !== "asc" && order !== "desc") throw badRequest("order must be asc or desc");
      const types = url.searchParams.getAll("types[]");
      return json(state.sessions.list(sid, limitOf(url, 20, 1000), url.searchParams.get("page"), order, types));
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/sessions\/([^/]+)\/events$/,
    beta: BETA.managedAgents,
    handle: async ({ request, params: [sid = ""], principal, state }) => {
      requireSession(principal, state.sessions.get(sid));
      const body = parseWith(SendEventsBodySchema, await readJson(request), "events");
      return json({ data: state.sessions.post(sid, body.events) });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/skills\/([^/]+)\/versions$/,
    beta: BETA.skills,
    handle: ({ params: [skill = ""], state }) => json({ data: state.skills.versions(skill), next_page: null }),
  },
  {
    method: "GET",
    pattern: /^\/v1\/skills\/([^/]+)\/versions\/([^/]+)$/,
    beta: BETA.skills,
    handle: ({ params: [skill = "", version = ""], state }) => json(state.skills.version(skill, version)),
  },
  {
    method: "GET",
    pattern: /^\/v1\/skills\/([^/]+)\/versions\/([^/]+)\/content$/,
    beta: BETA.skills,
    handle: ({ params: [skill = "", version = ""], state }) =>
      new Response(new Uint8Array(state.skills.content(skill, version)), {
        headers: { "content-type": "application/zip" },
      }),
  },
  ...memoryRoutes(),
];

function memoryRoutes(): Route[] {
  const LIST = /^\/v1\/memory_stores\/([^/]+)\/memories$/;
  const ONE = /^\/v1\/memory_stores\/([^/]+)\/memories\/([^/]+)$/;
  const guard = ({ principal, state, params: [store = ""] }: CallContext) =>
    requireMemory(principal, (sid) => state.sessions.get(sid).resources.map((r) => r.memory_store_id), store);
  const route = (method: string, pattern: RegExp, handle: Route["handle"]): Route => ({
    method,
    pattern,
    beta: BETA.memory,
    handle: (context) => {
      guard(context);
      return handle(context);
    },
  });
  return [
    route("GET", LIST, ({ url, params: [store = ""], state }) => json(page(state.memory.list(store), url, 100, 1000))),
    route("POST", LIST, async ({ request, params: [store = ""], state }) =>
      json(state.memory.create(store, parseWith(MemoryCreateSchema, await readJson(request), "memory"))),
    ),
    route("GET", ONE, ({ params: [store = "", id = ""], state }) => json(state.memory.get(store, id))),
    route("POST", ONE, async ({ request, params: [store = "", id = ""], state }) =>
      json(state.memory.update(store, id, parseWith(MemoryUpdateSchema, await readJson(request), "memory update"))),
    ),
    route("DELETE", ONE, ({ params: [store = "", id = ""], state }) => json(state.memory.delete(store, id))),
  ];
}

/** The route for a request, 405 when the path exists under another method, 404 when it does not. */
export function matchRoute(method: string, path: string): { route: Route; params: string[] } {
  let pathKnown = false;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method === method) return { route, params: match.slice(1).map(decodeURIComponent) };
    pathKnown = true;
  }
  if (pathKnown) throw new ApiError(405, "invalid_request_error", `${method} is not allowed on ${path}`);
  throw new ApiError(404, "not_found_error", `no route for ${method} ${path}`);
}
