/**
 * The hidden field every console form carries (the guard checks it on every non-GET request):
 * `<CsrfField token={c.get("csrfToken")} />` inside the `<form method="post">`.
 */
import { CSRF_FIELD } from "./csrf.ts";

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}
