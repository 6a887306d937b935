/**
 * `tether <command> ...`: the command-line entry (bin/tether.mjs runs it; the gateway bundle is
 * built from it). One row per command, each in its own file, loaded only when used.
 */
import pkg from "../../package.json" with { type: "json" };
import { UsageError } from "./usage-error.ts";

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  gateway: {
    summary: "connect MCP servers in this network to a Tether edge (runs until stopped)",
    run: async (argv) => (await import("./gateway-command.ts")).gatewayCommand(argv),
  },
  tunnel: {
    summary: "create, inspect and revoke tunnels and their tokens (admin token)",
    run: async (argv) => (await import("./tunnel-command.ts")).tunnelCommand(argv),
  },
  call: {
    summary: "list or call the tools of an MCP server through the edge (agent token)",
    run: async (argv) => (await import("./call-command.ts")).callCommand(argv),
  },
  audit: {
    summary: "export the audit trail (calls and operator actions) as JSON lines (admin token)",
    run: async (argv) => (await import("./audit-command.ts")).auditCommand(argv),
  },
  inspect: {
    summary: "tunnels, sandboxes, tokens and call metrics as tables (admin token)",
    run: async (argv) => (await import("./inspect-command.ts")).inspectCommand(argv),
  },
  environment: {
    summary: "add, inspect, update and remove Managed Agents environments (admin token)",
    run: async (argv) => (await import("./environment-command.ts")).environmentCommand(argv),
  },
};

const USAGE = `Usage: tether <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(11)} ${command.summary}`)
  .join("\n")}

Run "tether <command> --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    console.log(pkg.version);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`tether: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      console.error(`tether ${name}: ${(error as Error).message}\nRun "tether ${name} --help" for usage.`);
      return 2;
    }
    console.error(`tether ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** node:util parseArgs rejects unknown or malformed options with these codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

// Exit explicitly: idle keep-alive sockets of fetch would otherwise hold a finished command open.
process.exit(await main(process.argv.slice(2)));
