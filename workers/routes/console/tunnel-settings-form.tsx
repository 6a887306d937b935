/**
 * The tunnel settings as a form (creating a tunnel, editing one): allowed origins one per line,
 * the SSE keep-alive in milliseconds, and how the audit trail keeps calls (days, rows, whether
 * with their redacted arguments and results). Empty fields keep the default (on creation) or clear the
 * origins (on edit); the relay validates the values as the admin API's PATCH does.
 */
import { z } from "zod";
import type { TunnelSettings, TunnelSettingsPatch } from "../../../durable-objects/tunnel-relay/settings.ts";
import { DEFAULT_SSE_KEEPALIVE_MS, TunnelSettingsPatchSchema } from "../../../durable-objects/tunnel-relay/settings.ts";
import { DEFAULT_MAX_ROWS, DEFAULT_RETENTION_DAYS } from "../../../src/audit/retention.ts";
import { parseInput } from "../../../src/validation/parse-input.ts";

export const SettingsFormSchema = z.object({
  allowedOrigins: z.string().max(16_000).optional(),
  sseKeepAliveMs: z.string().max(20).optional(),
  retentionDays: z.string().max(20).optional(),
  maxRows: z.string().max(20).optional(),
  /** A checkbox: "on" when ticked, absent otherwise. */
  payloads: z.literal("on").optional(),
});
export type SettingsForm = z.infer<typeof SettingsFormSchema>;

/** The settings a form asks for, validated: 400 naming the field when one is wrong. */
export function settingsFromForm(form: SettingsForm): TunnelSettingsPatch {
  const patch: Record<string, unknown> = {};
  if (form.allowedOrigins !== undefined) {
    patch.allowedOrigins = form.allowedOrigins
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "");
  }
  const keepAlive = form.sseKeepAliveMs?.trim();
  if (keepAlive) patch.sseKeepAliveMs = Number(keepAlive);
  const audit: Record<string, unknown> = { payloads: form.payloads === "on" };
  const days = form.retentionDays?.trim();
  if (days) audit.retentionDays = Number(days);
  const rows = form.maxRows?.trim();
  if (rows) audit.maxRows = Number(rows);
  patch.audit = audit;
  return parseInput(TunnelSettingsPatchSchema.strict(), patch, "settings");
}

export function SettingsFields(props: { idPrefix: string; settings?: TunnelSettings }) {
  const origins = `${props.idPrefix}-allowed-origins`;
  const keepAlive = `${props.idPrefix}-keep-alive`;
  const retention = `${props.idPrefix}-retention-days`;
  const maxRows = `${props.idPrefix}-max-rows`;
  const payloads = `${props.idPrefix}-payloads`;
  const audit = props.settings?.audit;
  return (
    <div class="form-row">
      <div class="field">
        <label for={origins}>Allowed origins</label>
        <textarea id={origins} name="allowedOrigins" rows={3} aria-describedby={`${origins}-hint`}>
          {props.settings?.allowedOrigins.join("\n") ?? ""}
        </textarea>
        <span id={`${origins}-hint`} class="hint">
          Browser origins allowed to call the tunnel besides the edge's own, one per line (https://app.example.com).
        </span>
      </div>
      <div class="field">
        <label for={keepAlive}>SSE keep-alive (ms)</label>
        <input
          id={keepAlive}
          name="sseKeepAliveMs"
          type="number"
          min={10}
          max={60000}
          value={String(props.settings?.sseKeepAliveMs ?? "")}
          placeholder={String(DEFAULT_SSE_KEEPALIVE_MS)}
          aria-describedby={`${keepAlive}-hint`}
        />
        <span id={`${keepAlive}-hint`} class="hint">
          Idle time before a keep-alive comment on event streams (10 to 60,000).
        </span>
      </div>
      <div class="field">
        <label for={retention}>Keep calls (days)</label>
        <input
          id={retention}
          name="retentionDays"
          type="number"
          min={1}
          value={String(audit?.retentionDays ?? "")}
          placeholder={String(DEFAULT_RETENTION_DAYS)}
        />
      </div>
      <div class="field">
        <label for={maxRows}>Keep at most (calls)</label>
        <input
          id={maxRows}
          name="maxRows"
          type="number"
          min={10}
          value={String(audit?.maxRows ?? "")}
          placeholder={String(DEFAULT_MAX_ROWS)}
        />
      </div>
      <div class="field">
        <span>
          <input id={payloads} name="payloads" type="checkbox" checked={audit?.payloads ?? false} />{" "}
          <label for={payloads}>Keep arguments and results (redacted)</label>
        </span>
        <span class="hint">Off by default: only who called what, when, the outcome, duration and bytes are kept.</span>
      </div>
    </div>
  );
}
