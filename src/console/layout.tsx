/**
 * The frame every console page shares: a skip link, the header (name, the three sections, who is
 * signed in and a sign-out form), and one `main` landmark. Styles and the client script come from
 * /console/assets/ (./assets/registry.ts), never inline, as the Content-Security-Policy demands.
 */
import type { Child } from "hono/jsx";
import { ASSET_URLS } from "./assets/registry.ts";
import { CsrfField } from "./auth/csrf-field.tsx";

export type Section = "tunnels" | "sandboxes" | "tokens";

const SECTIONS: Array<{ id: Section; label: string; href: string }> = [
  { id: "tunnels", label: "Tunnels", href: "/console/tunnels" },
  { id: "sandboxes", label: "Sandboxes", href: "/console/sandboxes" },
  { id: "tokens", label: "API tokens", href: "/console/tokens" },
];

export interface LayoutProps {
  title: string;
  /** The section the page belongs to (marked as current in the navigation). */
  section?: Section | undefined;
  /** Who is signed in (operatorLabel), and the CSRF token of their session for the sign-out form; absent before sign-in. */
  operator?: string | undefined;
  csrfToken?: string | undefined;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${props.title} · Tether console`}</title>
        <link rel="stylesheet" href={ASSET_URLS.css} />
        <script src={ASSET_URLS.js} defer />
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="site-header">
          <a class="brand" href="/console">
            Tether
          </a>
          {props.operator !== undefined && props.csrfToken !== undefined && (
            <nav class="site-nav" aria-label="Console sections">
              <ul>
                {SECTIONS.map((section) => (
                  <li>
                    <a href={section.href} aria-current={section.id === props.section ? "page" : undefined}>
                      {section.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {props.operator !== undefined && props.csrfToken !== undefined && (
            <div class="operator">
              <span>
                Signed in as <strong data-testid="operator">{props.operator}</strong>
              </span>
              <form method="post" action="/console/sign-out">
                <CsrfField token={props.csrfToken} />
                <button type="submit" class="secondary">
                  Sign out
                </button>
              </form>
            </div>
          )}
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
  );
}
