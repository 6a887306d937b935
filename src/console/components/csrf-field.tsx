/**
 * The hidden field every console form carries: the session's CSRF token, which the console checks
 * on every POST before any action runs.
 */
export const CSRF_FIELD = "csrf";

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}
