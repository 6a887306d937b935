/**
 * How console routes answer: a whole page in the shared layout, never cached (a page may hold a
 * secret shown once), and errors as a page too, with the status of the TetherError behind them.
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { Child } from "hono/jsx";
import { operatorLabel } from "../../../src/auth/operator.ts";
import { Notice } from "../../../src/console/components/widgets.tsx";
import { Layout, type Section } from "../../../src/console/layout.tsx";
import { asTetherError } from "../../../src/errors/error-response.ts";
import type { ConsoleEnv } from "../../env.ts";

export type ConsoleContext = Context<ConsoleEnv>;

export function renderPage(
  c: ConsoleContext,
  page: { title: string; section?: Section | undefined },
  body: Child,
  status: 200 | 201 | 400 | 404 | 409 = 200,
) {
  return c.html(
    withDoctype(
      <Layout
        title={page.title}
        section={page.section}
        operator={operatorLabel(c.get("operator"))}
        csrfToken={c.get("csrfToken")}
      >
        {body}
      </Layout>,
    ),
    status,
  );
}

/**
 * Any failure under /console as a page: the TetherError's status and message (messages are written
 * for operators and hold no secrets), internal errors as a plain 500.
 */
export function renderError(c: ConsoleContext, error: unknown): Response | Promise<Response> {
  const failure = asTetherError(error);
  const title = failure.status === 404 ? "Not found" : failure.status >= 500 ? "Something failed" : "Refused";
  const body = (
    <>
      <h1>{title}</h1>
      <Notice text={failure.message} error />
      <p>
        <a href="/console">Back to the console</a>
      </p>
    </>
  );
  // The guard may not have run (an error before sign-in): render without the operator's header then.
  if (c.get("operator") === undefined || c.get("csrfToken") === undefined) {
    return c.html(
      withDoctype(
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <title>{title}</title>
          </head>
          <body>
            <main>{body}</main>
          </body>
        </html>,
      ),
      failure.status as 500,
      failure.headers,
    );
  }
  return c.html(
    withDoctype(
      <Layout title={title} operator={operatorLabel(c.get("operator"))} csrfToken={c.get("csrfToken")}>
        {body}
      </Layout>,
    ),
    failure.status as 500,
    failure.headers,
  );
}

/** Standards mode: without a doctype browsers lay the page out in quirks mode. */
function withDoctype(page: Child) {
  return html`<!DOCTYPE html>${page}`;
}

/** After an action: back to a page with a notice key (never free text, so nothing is reflected). */
export function redirectWithNotice(c: ConsoleContext, path: string, notice: NoticeKey): Response {
  const url = new URL(path, "http://console.invalid");
  url.searchParams.set("notice", notice);
  return c.redirect(`${url.pathname}${url.search}`, 303);
}

const NOTICES = {
  "tunnel-deleted": "Tunnel deleted.",
  "token-revoked": "Token revoked.",
  "session-ended": "Session ended.",
  "settings-saved": "Settings saved.",
  "sandbox-deleted": "Sandbox deleted.",
  "api-token-revoked": "API token revoked.",
} as const;
export type NoticeKey = keyof typeof NOTICES;

/** The text of the notice a redirect asked for, or null for none or an unknown key. */
export function noticeText(c: ConsoleContext): string | null {
  const key = c.req.query("notice");
  return key !== undefined && Object.hasOwn(NOTICES, key) ? NOTICES[key as NoticeKey] : null;
}
