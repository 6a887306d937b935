/**
 * The console's sign-in form: the admin token, exchanged for a session cookie (no CSRF token yet:
 * no session). A document of its own rather than the console's layout, whose header belongs to a
 * signed-in operator (who they are, sign-out).
 */
import { html } from "hono/html";
import type { Child } from "hono/jsx";

export interface SignInPageProps {
  next: string;
  /** Why the operator is (back) here: a wrong token, an expired link. Shown as an alert. */
  error?: string;
  /** Whether Cloudflare Access is configured (operators it lets through need no token). */
  access: boolean;
  /** False when the edge has no TETHER_ADMIN_TOKEN: the form cannot work, say so. */
  tokenSignIn: boolean;
}

export function SignInPage(props: SignInPageProps) {
  return html`<!DOCTYPE html>${(<SignInDocument {...props} />) as Child}`;
}

function SignInDocument(props: SignInPageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Sign in · Tether console</title>
      </head>
      <body>
        <main>
          <h1>Sign in to the Tether console</h1>
          {props.error ? (
            <p role="alert" class="error">
              {props.error}
            </p>
          ) : null}
          {props.tokenSignIn ? (
            <form method="post" action="/console/sign-in">
              <input type="hidden" name="next" value={props.next} />
              <label for="admin-token">Admin token</label>
              <input
                id="admin-token"
                name="token"
                type="password"
                autocomplete="off"
                required
                aria-describedby="admin-token-help"
              />
              <p id="admin-token-help">
                The edge's TETHER_ADMIN_TOKEN (locally in .dev.vars). It is exchanged for a session cookie that lasts 8
                hours; the token itself is not kept in the browser.
              </p>
              <button type="submit">Sign in</button>
            </form>
          ) : (
            <p>This edge has no admin token (TETHER_ADMIN_TOKEN), so only Cloudflare Access can sign operators in.</p>
          )}
          {props.access ? <p>Operators signed in through Cloudflare Access are let in without the token.</p> : null}
        </main>
      </body>
    </html>
  );
}
