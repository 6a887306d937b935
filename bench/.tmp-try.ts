import { startSetup } from "./tunnel/setup.ts";
import { connectMcp, mcpUrl } from "../test/helpers/mcp-client.ts";
import { execFileSync } from "node:child_process";
const setup = await startSetup();
try {
  const e = setup.edge;
  const s = await connectMcp(mcpUrl(e, "bench", "echo"), setup.tunnel.agentToken, { tetherHeader: true });
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { message: "hello" } } });
  for (const enc of ["gzip, deflate", "identity"]) {
    const out = execFileSync("curl", ["-sS", "-v", "-o", "/dev/null", "-w", "total %{time_total} ttfb %{time_starttransfer}\\n", "-X", "POST", mcpUrl(e, "bench", "echo"), "-H", "content-type: application/json", "-H", "accept: application/json, text/event-stream", "-H", `accept-encoding: ${enc}`, "-H", `mcp-session-id: ${s.sessionId}`, "-H", `x-tether-token: ${setup.tunnel.agentToken}`, "-H", "mcp-protocol-version: 2025-11-25", "-d", body], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    console.log(enc, out);
  }
  const r = await fetch(mcpUrl(e, "bench", "echo"), { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": s.sessionId!, "x-tether-token": setup.tunnel.agentToken }, body });
  console.log(r.status, [...r.headers]);
  await r.text();
  await s.close();
} finally { await setup.stop(); }
process.exit(0);
