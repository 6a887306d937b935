/**
 * Where to go after signing in: the `next` the guard put in the sign-in address, honoured only
 * when it is a path inside the console on this origin (never `//evil.example`, `/\evil`, a
 * scheme, or a path outside /console), so the sign-in page cannot be used as an open redirect.
 */
export const CONSOLE_HOME = "/console";

export function safeNextPath(next: string | null | undefined): string {
  if (!next || next.length > 2048) return CONSOLE_HOME;
  // Backslashes and control characters are normalised by browsers into surprising targets.
  if (hasBackslashOrControl(next) || !next.startsWith("/") || next.startsWith("//")) return CONSOLE_HOME;
  const base = "http://console.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return CONSOLE_HOME;
  }
  if (url.origin !== base || !/^\/console(\/|$)/.test(url.pathname)) return CONSOLE_HOME;
  if (url.pathname.startsWith("/console/sign-in") || url.pathname.startsWith("/console/sign-out")) return CONSOLE_HOME;
  return `${url.pathname}${url.search}`;
}

/** The sign-in address that comes back to `path` (a request's own path and query). */
export function signInPath(path: string): string {
  const next = safeNextPath(path);
  return next === CONSOLE_HOME ? "/console/sign-in" : `/console/sign-in?next=${encodeURIComponent(next)}`;
}

function hasBackslashOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5c || code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
