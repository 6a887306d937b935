/**
 * Fixtures for the console's page tests inside workerd: requests into the console as a signed-in
 * operator, form posts carrying the CSRF field, and reading the HTML back.
 */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { CSRF_FIELD } from "../../src/console/components/csrf-field.tsx";
import type { ConsoleEnv } from "../../workers/env.ts";
import { consoleRoutes } from "../../workers/routes/console.ts";
import { EDGE } from "./tunnel-fixtures.ts";

export const CSRF = "test-csrf-token";

/** The console as a signed-in admin-token operator sees it. */
const app = new Hono<ConsoleEnv>();
app.use("*", async (c, next) => {
  c.set("operator", { kind: "admin-token" });
  c.set("csrfToken", CSRF);
  await next();
});
app.route("/console", consoleRoutes);

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
