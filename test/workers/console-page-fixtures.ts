/**
 * Fixtures for the console's page tests inside workerd: requests into the console as a signed-in
 * operator, form posts carrying the CSRF field, and reading the HTML back.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { registry } from "../../durable-objects/registry.ts";
import type { SessionRecord } from "../../durable-objects/tunnel-relay/session-store.ts";
import { SessionStore } from "../../durable-objects/tunnel-relay/session-store.ts";
import { type CallTrace, TraceStore } from "../../durable-objects/tunnel-relay/trace-store.ts";
import type { OperatorActionRow } from "../../src/audit/operator-action.ts";
import type { Page } from "../../src/audit/trace-query.ts";
import { CSRF_FIELD } from "../../src/console/auth/csrf.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { ADMIN_TOKEN, cookieNonce, csrfTokenFor, signIn } from "./console-fixtures.ts";
import { EDGE, edgeFetch } from "./tunnel-fixtures.ts";

/**
 * The admin-token operator's session, signed in once through the real form; its cookie and CSRF
 * token go on every request, so the pages are reached through the real guard
 * (workers/routes/console-guard.ts), exactly as a browser reaches them.
 */
let operatorSession: Promise<{ cookie: string; csrf: string }> | undefined;

function signedIn(): Promise<{ cookie: string; csrf: string }> {
  operatorSession ??= (async () => {
    const cookie = await signIn();
    return { cookie, csrf: await csrfTokenFor(ADMIN_TOKEN, `session:${cookieNonce(cookie)}`) };
  })();
  return operatorSession;
}

/** The CSRF token the signed-in operator's pages carry. */
export async function operatorCsrf(): Promise<string> {
  return (await signedIn()).csrf;
}

/** A console request as the signed-in operator's browser makes it (cookie; Origin on anything but GET/HEAD). */
export async function consoleFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const { cookie } = await signedIn();
  const headers = new Headers(init.headers);
  headers.set("cookie", `tether_console=${cookie}`);
  const method = init.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") headers.set("origin", EDGE);
  return edgeFetch(path, { ...init, headers, redirect: "manual" });
}

/** A page's HTML; fails the test on any status but 200. */
export async function page(path: string): Promise<string> {
  const res = await consoleFetch(path);
  const html = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${html.slice(0, 500)}`);
  return html;
}

/** Posts a form as the browser does, with the session's CSRF field. */
export async function post(path: string, fields: Record<string, string> = {}): Promise<Response> {
  const { csrf } = await signedIn();
  return consoleFetch(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ [CSRF_FIELD]: csrf, ...fields }).toString(),
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
