/** A sandbox's tool-call trace as the sandbox page shows it, newest first. */
import type { SandboxDetails } from "../../../durable-objects/sandbox/status.ts";
import { Table } from "../../../src/console/components/table.tsx";
import { Time } from "../../../src/console/components/widgets.tsx";
import { formatBytes, formatMs } from "../../../src/console/format.ts";

export function SandboxTrace(props: { details: SandboxDetails }) {
  const rows = props.details.trace.map((call) => (
    <tr>
      <td>
        <Time ms={Date.parse(call.at)} />
      </td>
      <td class="mono">{call.tool}</td>
      <td class="mono wrap">{call.tool_use_id}</td>
      <td>
        <span class={call.error === null ? "status-ok" : "status-error"}>{call.error === null ? "ok" : "error"}</span>
      </td>
      <td class="num">{formatMs(call.duration_ms)}</td>
      <td class="num">{formatBytes(call.bytes)}</td>
      <td class="wrap">{call.error ?? ""}</td>
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
          { label: "Outcome" },
          { label: "Duration", num: true },
          { label: "Result size", num: true },
          { label: "Error" },
        ]}
        rows={rows}
        empty="No tool calls yet."
      />
    </section>
  );
}
