/**
 * One relayed call as a row of the live trace. The server renders these for the page and for the
 * JSON the client script polls (`html` of each row), so a row looks the same however it arrived,
 * and every string in it (tool names, errors, session ids, arguments and results, which the audit
 * trail keeps redacted and only for tunnels that opted in) is escaped by the JSX renderer.
 */
import type { StoredTrace } from "../../../durable-objects/tunnel-relay/trace-store.ts";
import { isFailedCall } from "../../audit/metrics-rollup.ts";
import { formatBytes, formatMs } from "../format.ts";
import type { Column } from "./table.tsx";
import { StatusText, Time } from "./widgets.tsx";

export const TRACE_COLUMNS: Column[] = [
  { label: "Time" },
  { label: "Server" },
  { label: "Method" },
  { label: "Tool" },
  { label: "Status" },
  { label: "Duration", num: true },
  { label: "Bytes in / out", num: true },
  { label: "Session" },
  { label: "Error" },
  { label: "Arguments / result" },
];

export function TraceRow(props: { trace: StoredTrace; fresh?: boolean }) {
  const trace = props.trace;
  const failed = isFailedCall(trace);
  return (
    <tr data-id={String(trace.id)} class={props.fresh ? "fresh" : undefined}>
      <td>
        <Time ms={trace.at} />
      </td>
      <td>{trace.server}</td>
      <td class="mono">{trace.rpcMethod ?? trace.httpMethod}</td>
      <td class="mono">{trace.tool ?? ""}</td>
      <td>
        <StatusText ok={!failed}>{trace.status === 0 ? "no answer" : String(trace.status)}</StatusText>
      </td>
      <td class="num">{formatMs(trace.durationMs)}</td>
      <td class="num">{`${formatBytes(trace.bytesIn)} / ${formatBytes(trace.bytesOut)}`}</td>
      <td class="mono wrap">{trace.sessionId ?? ""}</td>
      <td class="wrap">{trace.error ?? ""}</td>
      <td class="wrap">
        {trace.args !== null || trace.result !== null ? (
          <details>
            <summary>Arguments and result</summary>
            <p>Arguments</p>
            <pre>{trace.args ?? "none"}</pre>
            <p>Result (truncated)</p>
            <pre>{trace.result ?? "none"}</pre>
          </details>
        ) : (
          ""
        )}
      </td>
    </tr>
  );
}
