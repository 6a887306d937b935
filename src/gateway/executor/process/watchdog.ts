/**
 * The watchdog of a process that runs without bwrap (sandbox-launch.ts): a tiny `sh` that waits
 * on a pipe from the gateway and, when the pipe closes — the gateway exited, crashed or was
 * SIGKILLed and so can run no code — kills the process's group and every descendant it can still
 * find in /proc. It lives in its own process group, so killing the watched group spares it; the
 * gateway kills it (by PID) once the watched process has been stopped the normal way.
 *
 * Best effort by nature: a `setsid` child whose parent already exited is no longer linked to the
 * watched process. Under bwrap the PID namespace covers that case; this is the fallback.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { killPid } from "./sandbox-launch.ts";

// $1 is the watched PID (leader of its own group). Descendants are collected breadth first from
// /proc/*/stat (the part after the command name's closing parenthesis: state, ppid, …) before
// anything is killed, so none is reparented away in between. (dash's kill takes `-9 -PGID`, not
// `-KILL -- -PGID`.)
const SCRIPT = `
root=$1
case $root in ''|*[!0-9]*) exit 0;; esac
[ "$root" -gt 1 ] || exit 0
while read -r _; do :; done
all=$root
found=$root
while [ -n "$found" ]; do
  next=
  for f in /proc/[0-9]*/stat; do
    read -r st < "$f" 2>/dev/null || continue
    set -- \${st##*) }
    for p in $found; do
      if [ "$2" = "$p" ]; then pid=\${f%/stat}; next="$next \${pid#/proc/}"; fi
    done
  done
  all="$all $next"
  found=$next
done
kill -9 "-$root" 2>/dev/null
for p in $all; do [ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null; done
exit 0
`;

export interface Watchdog {
  /** Stops the watchdog without it doing anything (the watched process was stopped normally). */
  dismiss(): void;
}

export function watch(pid: number): Watchdog {
  if (!Number.isInteger(pid) || pid <= 1) return { dismiss() {} };
  const child: ChildProcess = spawn("/bin/sh", ["-c", SCRIPT, "tether-watchdog", String(pid)], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
  });
  child.on("error", () => {});
  child.stdin?.on("error", () => {});
  // The watchdog must not keep the gateway alive; only the pipe's closing matters.
  child.unref();
  (child.stdin as Socket | null)?.unref();
  return {
    dismiss() {
      if (child.pid !== undefined && child.exitCode === null) killPid(child.pid);
    },
  };
}
