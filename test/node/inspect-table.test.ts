/** The tables and figures `tether inspect` prints (src/cli/table.ts). */
import { describe, expect, test } from "vitest";
import { formatAge, formatBytes, formatErrorRate, formatMs, formatRate, renderTable } from "../../src/cli/table.ts";

describe("renderTable", () => {
  test("columns as wide as their widest cell, numbers right-aligned, no trailing spaces", () => {
    const text = renderTable(
      [{ header: "NAME" }, { header: "CALLS", right: true }, { header: "NOTE" }],
      [
        ["a", "5", "x"],
        ["longer-name", "12,345", ""],
      ],
    );
    expect(text.split("\n")).toEqual(["NAME          CALLS  NOTE", "a                 5  x", "longer-name  12,345"]);
  });

  test("no rows: the headers and (none)", () => {
    expect(renderTable([{ header: "ID" }, { header: "ROLE" }], [])).toBe("ID  ROLE\n(none)");
  });

  test("line feeds, tabs and escape sequences in cells are shown escaped and cannot break the layout", () => {
    const text = renderTable([{ header: "ERROR" }, { header: "N", right: true }], [["bad\nline\t\u001b[31m", "1"]]);
    expect(text.split("\n")).toHaveLength(2);
    expect(text).toContain("bad\\nline\\t\\u001b[31m  1");
  });
});

describe("figures", () => {
  test("durations, rates, error shares and sizes", () => {
    expect([formatMs(null), formatMs(0), formatMs(1_250), formatMs(42_000)]).toEqual([
      "-",
      "0 ms",
      "1,250 ms",
      "42.0 s",
    ]);
    expect([formatRate(30, 300_000), formatRate(1, 3_600_000)]).toEqual(["6.0", "0.0"]);
    expect([formatErrorRate(0, 0), formatErrorRate(1, 3)]).toEqual(["-", "33.3%"]);
    expect([formatBytes(null), formatBytes(512), formatBytes(2048), formatBytes(5 * 1024 ** 3)]).toEqual([
      "-",
      "512 B",
      "2.0 KiB",
      "5.0 GiB",
    ]);
  });

  test("ages past and future, from epoch milliseconds or ISO text", () => {
    const now = Date.parse("2026-12-05T10:00:00Z");
    expect(formatAge(now - 5_000, now)).toBe("5s ago");
    expect(formatAge("2026-12-05T09:57:00Z", now)).toBe("3m ago");
    expect(formatAge(now + 2 * 3_600_000, now)).toBe("in 2h");
    expect(formatAge(now - 3 * 86_400_000, now)).toBe("3d ago");
    expect(formatAge(null, now)).toBe("-");
    expect(formatAge("not a date", now)).toBe("not a date");
  });
});
