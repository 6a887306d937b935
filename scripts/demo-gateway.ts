/**
 * How `npm start` (./start.ts) launches the demo gateway: the command line names the edge, the
 * tunnel and the server, and the gateway token goes in the child's environment (TETHER_TOKEN),
 * because every user of the machine can read a process's command line (`ps`), not its
 * environment.
 */
export interface DemoGatewayOptions {
  /** The Node binary and the CLI entry (src/cli/main.ts). */
  node: string;
  main: string;
  edge: string;
  tunnel: string;
  token: string;
  /** `NAME=TARGET`, as for --server. */
  server: string;
  /** `NAME=DIR`, as for --executor: the demo's sandboxes on this machine. */
  executor?: string;
  /** Adds --allow-root (executors refuse to run as root without it). */
  allowRoot?: boolean;
}

export interface Launch {
  command: string;
  args: string[];
  /** Added to the parent's environment. */
  env: Record<string, string>;
}

export function demoGatewayLaunch(options: DemoGatewayOptions): Launch {
  const args = [
    options.main,
    "gateway",
    "--edge",
    options.edge,
    "--tunnel",
    options.tunnel,
    "--server",
    options.server,
  ];
  if (options.executor) args.push("--executor", options.executor);
  if (options.allowRoot) args.push("--allow-root");
  return {
    command: options.node,
    args,
    env: { TETHER_TOKEN: options.token },
  };
}
