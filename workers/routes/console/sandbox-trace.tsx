/**
 * A sandbox's tool-call trail as the sandbox page shows it, newest first and paged: each call's
 * caller, outcome, time and size, and its input and (truncated) result as the audit trail keeps
 * them (redacted there, escaped here).
 */
import type { SandboxTraceRow } from "../../../durable-objects/sandbox/trace.ts";
import type { Page } from "../../../src/audit/trace-query.ts";
import { Table } from "../../../src/console/components/table.tsx";
import { Pager, StatusText, Time } from "../../../src/console/components/widgets.tsx";
import { formatBytes, formatMs } from "../../../src/console/format.ts";

export const SANDBOX_TRACE_ROWS = 50;

export function SandboxTrace(props: {
  page: Page<SandboxTraceRow>;
  isFirst: boolean;
  href: (cursor: string | null) => string;
}) {
  const rows = props.page.rows.map((call) => (
    <tr data-id={String(call.id)}>
      <td>
        <Time ms={call.at} />
      </td>
      <td class="mono">{call.tool}</td>
      <td class="mono wrap">{call.toolUseId}</td>
      <td class="mono">{call.caller ?? ""}</td>
      <td>
        <StatusText ok={call.error === null}>{call.error === null ? "ok" : "error"}</StatusText>
      </td>
      <td class="num">{formatMs(call.durationMs)}</td>
      <td class="num">{formatBytes(call.bytes)}</td>
      <td class="wrap">{call.error ?? ""}</td>
      <td class="wrap">
        {call.input !== null || call.result !== null ? (
          <details>
            <summary>Input and result</summary>
            <p>Input</p>
            <pre>{call.input ?? "not kept"}</pre>
            <p>Result (truncated)</p>
            <pre>{call.result ?? "not kept"}</pre>
          </details>
        ) : (
          <span class="muted">not kept</span>
        )}
      </td>
    </tr>
  ));
  return (
    <section aria-labelledby="sandbox-trace-heading">
      <h2 id="sandbox-trace-heading">Tool calls</h2>
      <Table
        id="sandbox-trace"
        caption="Tool calls, newest first"
        columns={[
          { label: "Time" },
          { label: "Tool" },
          { label: "Tool use" },
          { label: "Caller" },
          { label: "Outcome" },
          { label: "Duration", num: true },
          { label: "Result size", num: true },
          { label: "Error" },
          { label: "Input / result" },
        ]}
        rows={rows}
        empty="No tool calls."
      />
      <Pager label="Tool calls" next={props.page.next} isFirst={props.isFirst} href={props.href} />
    </section>
  );
}
