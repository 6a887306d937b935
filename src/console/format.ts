/**
 * How the console writes numbers, sizes and times: compact, unambiguous (UTC), and the same on
 * every page. Null stands for "not known" and is shown as an em dash.
 */
import { formatBytes as formatByteCount } from "../sandbox/fs/quota.ts";

export const UNKNOWN = "—";

/** Sizes as the sandbox's own messages write them (`1 MiB`, `2.5 KiB`); unknown as a dash. */
export function formatBytes(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? UNKNOWN : formatByteCount(bytes);
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return UNKNOWN;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** `2026-12-05 08:40:12Z`: a UTC time a person reads; the machine-readable form goes in `datetime`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return UNKNOWN;
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

export function formatPercent(part: number, whole: number): string {
  if (whole === 0) return UNKNOWN;
  const percent = (part / whole) * 100;
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

export function formatRate(calls: number, windowMs: number): string {
  const perMinute = calls / (windowMs / 60_000);
  return perMinute < 10 && perMinute > 0 ? perMinute.toFixed(1) : String(Math.round(perMinute));
}
