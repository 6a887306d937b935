/**
 * Fixtures for the console's page tests inside workerd: requests into the console as a signed-in
 * operator, form posts carrying the CSRF field, and reading the HTML back.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { registry } from "../../durable-objects/registry.ts";
import type { SessionRecord } from "../../durable-objects/tunnel-relay/session-store.ts";
import { SessionStore } from "../../durable-objects/tunnel-relay/session-store.ts";
import { type CallTrace, TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import type { OperatorActionRow } from "../../src/audit/operator-action.ts";
import type { Page } from "../../src/audit/trace-query.ts";
import { CSRF_FIELD } from "../../src/console/auth/csrf.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import type { ConsoleEnv } from "../../workers/env.ts";
import { consoleAssetRoutes } from "../../workers/routes/console/assets.ts";
import { consolePagesRoutes } from "../../workers/routes/console-pages.tsx";
import { EDGE } from "./tunnel-fixtures.ts";

export const CSRF = "test-csrf-token";

/**
 * The console's pages as a signed-in admin-token operator sees them: the pages mounted behind a
 * stand-in for the sign-in guard that sets what the real one sets (workers/routes/console-guard.ts,
 * tested on its own in console-guard.test.ts).
 */
const app = new Hono<ConsoleEnv>();
app.use("*", async (c, next) => {
  c.set("operator", { kind: "admin-token" });
  c.set("csrfToken", CSRF);
  await next();
});
app.route("/console", consoleAssetRoutes);
app.route("/console", consolePagesRoutes);

export function consoleFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(app.fetch(new Request(`${EDGE}${path}`, { redirect: "manual", ...init }), env));
}

/** A page's HTML; fails the test on any status but 200. */
export async function page(path: string): Promise<string> {
  const res = await consoleFetch(path);
  const html = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${html.slice(0, 500)}`);
  return html;
}

/** Posts a form as the browser does, with the CSRF field. */
export function post(path: string, fields: Record<string, string> = {}): Promise<Response> {
  return consoleFetch(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ [CSRF_FIELD]: CSRF, ...fields }).toString(),
  });
}

/** The text of an HTML fragment without tags, entities decoded as far as tests compare them. */
export function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

/** The rows of the table with this id, as HTML strings (tbody only). */
export function tableRows(html: string, id: string): string[] {
  const start = html.indexOf(`<table id="${id}"`);
  if (start === -1) throw new Error(`no table #${id}`);
  const body = html.slice(html.indexOf("<tbody>", start) + 7, html.indexOf("</tbody>", start));
  return body.split("</tr>").filter((row) => row.includes("<tr"));
}

/** Writes call traces straight into a tunnel's store (ids follow the stored ones), as relayed calls would. */
export async function seedTraces(tunnel: string, traces: CallTrace[]): Promise<void> {
  await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel), (_instance, state) => {
    const writes = new WriteBehind(state.storage);
    const store = new TraceStore(state.storage.sql, writes);
    for (const trace of traces) store.add(trace);
    writes.flush();
  });
}

/** Writes MCP session rows straight into a tunnel's storage. */
export async function seedSessions(tunnel: string, sessions: SessionRecord[]): Promise<void> {
  await runInDurableObject(env.TUNNEL_RELAY.getByName(tunnel), (_instance, state) => {
    const writes = new WriteBehind(state.storage);
    const store = new SessionStore(state.storage.sql, writes);
    for (const session of sessions) store.record(session);
  });
}

export function session(server: string, id: string, lastUsedAt = Date.now()): SessionRecord {
  return {
    server,
    id,
    tokenId: "ag_test",
    gatewayId: "gw-test",
    clientName: "test-client",
    clientVersion: "1.2.3",
    protocolVersion: "2025-06-18",
    createdAt: lastUsedAt,
    lastUsedAt,
  };
}

/** What must never reach a console page: token secrets in any form. */
export function expectNoSecrets(html: string, secrets: string[]): void {
  for (const secret of secrets)
    if (html.includes(secret)) throw new Error(`a secret reached the page: ${secret.slice(0, 12)}…`);
  if (/tth\.(gw|ag|sb|api)\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{32,}/.test(html))
    throw new Error("something shaped like a token reached the page");
}

/** The newest operator actions recorded for a tunnel or sandbox (or all), newest first. */
export async function operatorActions(
  filter: { tunnel?: string; sandbox?: string } = {},
): Promise<OperatorActionRow[]> {
  // The stub's type of a row holding `unknown` details is not usable; the value is.
  const page = (await registry(env).operatorActions({ ...filter, limit: 50 })) as unknown as Page<OperatorActionRow>;
  return page.rows;
}
