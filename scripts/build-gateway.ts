/**
 * `npm run build`: bundles the `tether` CLI (src/cli/main.ts, all dependencies included) into one
 * file, dist/tether-gateway.mjs, to copy onto a server with Node 22: `node tether-gateway.mjs gateway ...`.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUTFILE = `${ROOT}dist/tether-gateway.mjs`;

const result = await build({
  entryPoints: [`${ROOT}src/cli/main.ts`],
  outfile: OUTFILE,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  // Bundled CommonJS dependencies (ws, the MCP SDK's) call require() for Node built-ins.
  banner: {
    js: [
      "#!/usr/bin/env node",
      'import { createRequire as __tetherCreateRequire } from "node:module";',
      "const require = __tetherCreateRequire(import.meta.url);",
    ].join("\n"),
  },
  legalComments: "none",
  // Without comments the bundle is pure ASCII, which V8 stores at one byte per character: ~1.3 MiB
  // less resident memory for an idle gateway. Names are kept, so stack traces stay readable.
  minifyWhitespace: true,
  charset: "ascii",
  metafile: true,
  logLevel: "warning",
});

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`built ${OUTFILE} (${(bytes / 1024).toFixed(0)} KiB)`);
