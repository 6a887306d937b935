/**
 * The last section of a tunnel's or a sandbox's page: deleting it, confirmed by typing its name
 * again (checked by the route: workers/routes/console/form-body.ts `confirmDeletion`).
 */
import { CsrfField } from "../auth/csrf-field.tsx";

export function DeleteSection(props: {
  heading: string;
  action: string;
  /** What deleting ends, in a sentence. */
  consequence: string;
  confirmLabel: string;
  button: string;
  csrfToken: string;
}) {
  return (
    <section aria-labelledby="delete-heading">
      <h2 id="delete-heading">{props.heading}</h2>
      <form method="post" action={props.action} class="panel">
        <CsrfField token={props.csrfToken} />
        <p>{props.consequence}</p>
        <div class="form-row">
          <div class="field">
            <label for="confirm-delete">{props.confirmLabel}</label>
            <input id="confirm-delete" name="confirm" required autocomplete="off" />
          </div>
          <button type="submit" class="danger">
            {props.button}
          </button>
        </div>
      </form>
    </section>
  );
}
