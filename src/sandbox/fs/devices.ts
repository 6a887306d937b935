/**
 * The sandbox's `/dev`: a few virtual device files every script expects (`> /dev/null` above all).
 * They are never stored; reads give nothing and writes are discarded, as on Linux for /dev/null.
 * `/dev` itself cannot be changed.
 */
import { DIR_MODE, type NodeRow } from "./schema.ts";

export const DEV_DIR = "/dev";
const DEVICE_NAMES = ["null", "zero", "stdin", "stdout", "stderr", "random", "urandom"] as const;
const DEVICE_MODE = 0o666;

/** Device rows use negative row ids so they never collide with stored nodes. */
const DEV_ROW: NodeRow = {
  rowid: -1,
  path: DEV_DIR,
  parent: "/",
  type: "dir",
  mode: DIR_MODE,
  mtime: 0,
  size: 0,
  target: null,
  blob: null,
};

export function isDevicePath(path: string): boolean {
  return path === DEV_DIR || path.startsWith(`${DEV_DIR}/`);
}

/** The virtual row for a path under /dev, or undefined when no such device exists. */
export function deviceRow(path: string): NodeRow | undefined {
  if (path === DEV_DIR) return DEV_ROW;
  const index = DEVICE_NAMES.indexOf(path.slice(DEV_DIR.length + 1) as (typeof DEVICE_NAMES)[number]);
  if (index < 0 || !path.startsWith(`${DEV_DIR}/`)) return undefined;
  return { ...DEV_ROW, rowid: -2 - index, path, parent: DEV_DIR, type: "file", mode: DEVICE_MODE };
}

export function deviceNames(): readonly string[] {
  return DEVICE_NAMES;
}
