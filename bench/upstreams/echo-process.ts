/** Runs ./echo-upstream.ts as its own process (as a real upstream would be) on a free 127.0.0.1 port. */
import { fileURLToPath } from "node:url";
import { NODE, type RunningProcess, spawnProcess } from "../../test/helpers/processes.ts";

export interface EchoUpstreamProcess {
  /** The MCP endpoint, http://127.0.0.1:PORT/mcp. */
  url: string;
  process: RunningProcess;
}

export async function startEchoUpstreamProcess(): Promise<EchoUpstreamProcess> {
  const entry = fileURLToPath(new URL("./echo-upstream.ts", import.meta.url));
  const proc = spawnProcess("echo-upstream", NODE, [entry]);
  try {
    const line = await proc.waitFor(/echo upstream listening on port \d+/, 20_000);
    const port = /port (\d+)/.exec(line)?.[1];
    return { url: `http://127.0.0.1:${port}/mcp`, process: proc };
  } catch (error) {
    await proc.stop("SIGKILL");
    throw error;
  }
}
