/**
 * `tether call`: a small MCP client built on the official SDK. Connects to a tunnel's server (or a
 * sandbox's MCP face) at the edge, lists its tools, and optionally calls one. Handy to check a
 * deployment end to end and used by `npm start`'s printed example.
 */
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UsageError } from "./usage-error.ts";

const USAGE = `Usage:
  tether call --url EDGE/t/TUNNEL/SERVER/mcp --token AGENT_TOKEN [--tool NAME] [--args JSON]
Lists the server's tools; with --tool, calls it with --args (a JSON object) and prints the result.
The token may also come from TETHER_TOKEN.`;

export async function callCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      token: { type: "string", default: process.env.TETHER_TOKEN },
      tool: { type: "string" },
      args: { type: "string", default: "{}" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.url) throw new UsageError(`--url is required\n${USAGE}`);
  if (!values.token) throw new UsageError("--token is required (or set TETHER_TOKEN)");
  let toolArgs: Record<string, unknown>;
  try {
    toolArgs = JSON.parse(values.args) as Record<string, unknown>;
  } catch {
    throw new UsageError(`--args must be a JSON object, got: ${values.args}`);
  }

  const transport = new StreamableHTTPClientTransport(new URL(values.url), {
    requestInit: { headers: { authorization: `Bearer ${values.token}` } },
  });
  const client = new Client({ name: "tether-call", version: "0.1.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    console.log(`${tools.length} tools: ${tools.map((t) => t.name).join(", ")}`);
    if (values.tool) {
      const result = await client.callTool({ name: values.tool, arguments: toolArgs });
      console.log(JSON.stringify(result, null, 2));
      if (result.isError) return 1;
    }
    return 0;
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}
