/**
 * `trap` for the EXIT condition, which just-bash lacks: `trap 'cmd' EXIT` (or `0`) runs `cmd` when
 * the command line ends, as a script's EXIT trap does in GNU bash; `trap - EXIT` and `trap '' EXIT`
 * clear it, `trap -p` prints it. Other conditions (ERR, INT, TERM …) are accepted and kept for
 * `trap -p` but never fire: nothing delivers signals to a sandbox's shell.
 *
 * The state carrier runs the handler after its epilogue (so it sees the final shell), or, when
 * the script ended early (`exit`, `set -e`), in a fresh shell in the start directory afterwards.
 * A trap lasts for one call, as it lasts for one script in bash.
 */
import { type Command, defineCommand } from "just-bash";

export const EXIT_TRAP = "__tether_exit_trap";

const SIGNALS = new Set([
  "EXIT",
  "ERR",
  "DEBUG",
  "RETURN",
  "HUP",
  "INT",
  "QUIT",
  "TERM",
  "USR1",
  "USR2",
  "PIPE",
  "ALRM",
  "CHLD",
]);

const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

export class ExitTraps {
  readonly commands: Command[];
  private readonly handlers = new Map<string, string>();

  /** `status()` is the script's exit status when the epilogue runs the handler (its `$?`). */
  constructor(status: () => number) {
    this.commands = [
      defineCommand("trap", async (args) => this.trap(args)),
      // Prints the EXIT handler for the epilogue's `eval`, once: it must not run twice.
      defineCommand(EXIT_TRAP, async () => {
        const handler = this.takeExit();
        // `$?` in the handler is the script's status, as in bash.
        const stdout = handler === undefined ? "" : `(exit ${status()})\n${handler}`;
        return { stdout, stderr: "", exitCode: 0 };
      }),
    ];
  }

  /** The EXIT handler not yet run, which is then forgotten. */
  takeExit(): string | undefined {
    const handler = this.handlers.get("EXIT");
    this.handlers.delete("EXIT");
    return handler;
  }

  private trap(args: string[]): { stdout: string; stderr: string; exitCode: number } {
    const ok = (stdout = "") => ({ stdout, stderr: "", exitCode: 0 });
    if (args.length === 0 || args[0] === "-p") {
      const wanted = args.slice(1).map(conditionName);
      const lines = [...this.handlers]
        .filter(([name]) => wanted.length === 0 || wanted.includes(name))
        .map(([name, handler]) => `trap -- ${quote(handler)} ${name}\n`);
      return ok(lines.join(""));
    }
    if (args[0] === "-l") return ok(`${[...SIGNALS].join(" ")}\n`);
    const rest = args[0] === "--" ? args.slice(1) : args;
    const [action, ...conditions] = rest;
    // `trap N…` with a number first resets those conditions, as bash does.
    const resetOnly = action !== undefined && /^\d+$/.test(action) && conditions.length === 0;
    const names = (resetOnly ? [action as string] : conditions).map(conditionName);
    for (const [index, name] of names.entries()) {
      if (!SIGNALS.has(name)) {
        const given = (resetOnly ? [action as string] : conditions)[index];
        return { stdout: "", stderr: `bash: trap: ${given}: invalid signal specification\n`, exitCode: 1 };
      }
    }
    for (const name of names) {
      if (resetOnly || action === "-" || action === "") this.handlers.delete(name);
      else this.handlers.set(name, action as string);
    }
    return ok();
  }
}

function conditionName(given: string): string {
  const upper = given.toUpperCase().replace(/^SIG/, "");
  return upper === "0" ? "EXIT" : upper;
}
