/**
 * The Prometheus text exposition of call metrics, read back by a strict parser of format 0.0.4
 * (test/helpers/prometheus-parser.ts), whose own strictness is shown on broken inputs.
 */
import { describe, expect, test } from "vitest";
import { sandboxMetrics, tunnelMetrics } from "../../src/audit/metrics-rollup.ts";
import { escapeLabelValue, prometheusText } from "../../src/audit/prometheus-text.ts";
import { callBucket } from "../helpers/call-bucket.ts";
import { parsePrometheusText } from "../helpers/prometheus-parser.ts";

const awkward = 'we"ird\\name\nline';

const text = prometheusText(
  [
    tunnelMetrics("acme", [
      callBucket({ server: "files", tool: "read", durationMs: 12, calls: 3, errors: 1, bytesIn: 10, bytesOut: 2048 }),
      callBucket({ server: "files", tool: awkward, window: "1h", durationMs: 1500 }),
    ]),
    tunnelMetrics("idle", []),
  ],
  [sandboxMetrics("sb-1", [callBucket({ server: "", tool: "bash", durationMs: 250, calls: 2, bytesOut: 99 })])],
);
const families = parsePrometheusText(text);

function value(family: string, labels: Record<string, string>): number | undefined {
  return families
    .get(family)
    ?.samples.find(
      (sample) =>
        Object.entries(labels).every(([name, v]) => sample.labels[name] === v) &&
        Object.keys(sample.labels).length === Object.keys(labels).length,
    )?.value;
}

describe("prometheusText", () => {
  test("every family is a documented gauge, once, with its samples together", () => {
    expect(text.endsWith("\n")).toBe(true);
    const names = [...families.keys()];
    expect(names).toEqual([
      "tether_tunnel_calls",
      "tether_tunnel_errors",
      "tether_tunnel_call_duration_seconds",
      "tether_tunnel_request_bytes",
      "tether_tunnel_response_bytes",
      "tether_tunnel_server_calls",
      "tether_tunnel_server_errors",
      "tether_tunnel_server_call_duration_seconds",
      "tether_tunnel_server_request_bytes",
      "tether_tunnel_server_response_bytes",
      "tether_tunnel_tool_calls",
      "tether_tunnel_tool_errors",
      "tether_tunnel_tool_call_duration_seconds",
      "tether_tunnel_tool_request_bytes",
      "tether_tunnel_tool_response_bytes",
      "tether_sandbox_calls",
      "tether_sandbox_errors",
      "tether_sandbox_call_duration_seconds",
      "tether_sandbox_response_bytes",
      "tether_sandbox_tool_calls",
      "tether_sandbox_tool_errors",
      "tether_sandbox_tool_call_duration_seconds",
      "tether_sandbox_tool_response_bytes",
    ]);
    for (const family of families.values()) {
      expect(family.type).toBe("gauge");
      expect(family.help).toMatch(/\S/);
    }
    expect(text.match(/^# TYPE /gm)).toHaveLength(names.length);
    expect(text.match(/^# HELP /gm)).toHaveLength(names.length);
  });

  test("calls, errors and bytes per window; latency in seconds per window and quantile", () => {
    expect(value("tether_tunnel_calls", { tunnel: "acme", window: "5m" })).toBe(3);
    expect(value("tether_tunnel_calls", { tunnel: "acme", window: "1h" })).toBe(4);
    expect(value("tether_tunnel_calls", { tunnel: "idle", window: "1h" })).toBe(0);
    expect(value("tether_tunnel_errors", { tunnel: "acme", window: "5m" })).toBe(1);
    expect(value("tether_tunnel_response_bytes", { tunnel: "acme", window: "5m" })).toBe(2048);
    expect(value("tether_tunnel_request_bytes", { tunnel: "acme", window: "1h" })).toBe(10);
    expect(value("tether_tunnel_call_duration_seconds", { tunnel: "acme", window: "5m", quantile: "0.5" })).toBe(0.012);
    expect(value("tether_tunnel_call_duration_seconds", { tunnel: "acme", window: "1h", quantile: "0.99" })).toBe(1.5);
    expect(value("tether_tunnel_server_calls", { tunnel: "acme", server: "files", window: "1h" })).toBe(4);
    expect(value("tether_tunnel_tool_calls", { tunnel: "acme", server: "files", tool: "read", window: "5m" })).toBe(3);
    expect(value("tether_sandbox_calls", { sandbox: "sb-1", window: "5m" })).toBe(2);
    expect(
      value("tether_sandbox_tool_call_duration_seconds", {
        sandbox: "sb-1",
        tool: "bash",
        window: "1h",
        quantile: "0.95",
      }),
    ).toBe(0.25);
    expect(value("tether_sandbox_tool_response_bytes", { sandbox: "sb-1", tool: "bash", window: "5m" })).toBe(99);
  });

  test("a window without calls has no quantile samples (and no NaN)", () => {
    const idle = families.get("tether_tunnel_call_duration_seconds")?.samples.filter((s) => s.labels.tunnel === "idle");
    expect(idle).toEqual([]);
    expect(
      value("tether_tunnel_tool_call_duration_seconds", {
        tunnel: "acme",
        server: "files",
        tool: awkward,
        window: "5m",
        quantile: "0.5",
      }),
    ).toBeUndefined();
    expect(text).not.toMatch(/NaN/);
  });

  test("label values with quotes, backslashes and line feeds are escaped and read back intact", () => {
    expect(escapeLabelValue(awkward)).toBe('we\\"ird\\\\name\\nline');
    expect(text).toContain(`tool="we\\"ird\\\\name\\nline"`);
    expect(value("tether_tunnel_tool_calls", { tunnel: "acme", server: "files", tool: awkward, window: "1h" })).toBe(1);
  });

  test("no metrics at all is still a valid exposition (families documented, no samples)", () => {
    const empty = parsePrometheusText(prometheusText([], []));
    expect(empty.size).toBe(23);
    expect([...empty.values()].every((family) => family.samples.length === 0)).toBe(true);
  });
});

describe("the strict parser refuses what the format forbids", () => {
  test.each([
    ["no final line feed", "# TYPE a gauge\na 1"],
    ["an unknown escape", '# TYPE a gauge\na{l="x\\t"} 1\n'],
    ["an unterminated label value", '# TYPE a gauge\na{l="x} 1\n'],
    ["a family interleaved with another", '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n'],
    ["TYPE after samples", "a 1\n# TYPE a gauge\n"],
    ["a second HELP", "# HELP a x\n# HELP a y\na 1\n"],
    ["a series twice", '# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n'],
    ["a label twice", '# TYPE a gauge\na{l="1",l="2"} 1\n'],
    ["a bad value", "# TYPE a gauge\na one\n"],
    ["a bad metric name", "# TYPE 1a gauge\n"],
    ["a label name that is not one", '# TYPE a gauge\na{1l="x"} 1\n'],
  ])("%s", (_what, input) => {
    expect(() => parsePrometheusText(input)).toThrow();
  });
});
