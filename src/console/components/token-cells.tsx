/** The last two cells of a token's row (tunnel tokens and API tokens alike): its state, and its revoke button while it is live. */
import { CsrfField } from "../auth/csrf-field.tsx";
import { StatusText, Time } from "./widgets.tsx";

export function TokenStateCells(props: {
  revokedAt: number | null;
  /** Where the revoke form posts. */
  revokeAction: string;
  /** The button's accessible name (it says which token). */
  revokeLabel: string;
  csrfToken: string;
}) {
  return (
    <>
      <td>
        {props.revokedAt === null ? (
          <StatusText ok>live</StatusText>
        ) : (
          <StatusText ok={false}>
            revoked <Time ms={props.revokedAt} />
          </StatusText>
        )}
      </td>
      <td>
        {props.revokedAt === null && (
          <form method="post" action={props.revokeAction} class="inline">
            <CsrfField token={props.csrfToken} />
            <button type="submit" class="danger" aria-label={props.revokeLabel}>
              Revoke
            </button>
          </form>
        )}
      </td>
    </>
  );
}
