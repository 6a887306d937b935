import { startEdge } from "../test/helpers/edge.ts";
import { createTunnel } from "../test/helpers/mcp-client.ts";
import { startGateway } from "../test/helpers/processes.ts";
import { rssMiB } from "./lib/memory.ts";
import { readFileSync } from "node:fs";
const edge = await startEdge();
try {
  const t = await createTunnel(edge, "bench");
  for (const bundle of [false, true]) {
    const g = await startGateway({ edge: edge.url, token: t.gatewayToken, servers: ["echo=http://127.0.0.1:9/mcp"], bundle });
    await new Promise((r) => setTimeout(r, 1500));
    const st = readFileSync(`/proc/${g.pid}/status`, "utf8").match(/^(VmRSS|RssAnon|RssFile|VmHWM).*$/gm);
    console.log(bundle ? "bundle" : "source", rssMiB(g.pid), st);
    await g.stop();
  }
} finally { await edge.close(); }
process.exit(0);
