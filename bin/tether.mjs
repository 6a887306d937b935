#!/usr/bin/env node
// The `tether` command. The CLI is TypeScript (src/cli/main.ts), which Node 22.18+ runs as is.
// Under an older node (a system node 20, say) it re-runs itself with the project's own Node 22
// from node_modules/.bin (the `node` devDependency), forwarding signals and the exit status.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const main = new URL("../src/cli/main.ts", import.meta.url);
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);

if (major > 22 || (major === 22 && minor >= 18)) {
  await import(main.href);
} else {
  const node = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));
  if (!existsSync(node)) {
    console.error(
      `tether needs Node 22.18 or newer (this is ${process.version}) and found none in ${node}: ` +
        "run npm install in the project, or run dist/tether-gateway.mjs with a newer node.",
    );
    process.exit(1);
  }
  const child = spawn(node, [fileURLToPath(main), ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
}
