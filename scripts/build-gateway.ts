/**
 * `npm run build`: bundles the `tether` CLI (src/cli/main.ts, all dependencies included) into one
 * file, dist/tether-gateway.mjs, to copy onto a server with Node 22: `node tether-gateway.mjs gateway ...`.
 * `bundleForNode` is the same build for any entry, so tests can check what the gateway's
 * executors import (the sandbox tools, just-bash) bundles and runs the same way.
 */
import { fileURLToPath } from "node:url";
import { type BuildResult, build, type StdinOptions } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUTFILE = `${ROOT}dist/tether-gateway.mjs`;

/**
 * just-bash's optional native compressors (zstd, xz). They cannot live inside a one-file bundle (a
 * compiled addon is found next to its package), so imports of them stay as they are: where the
 * package is installed it loads, elsewhere just-bash catches the failed import and its command
 * reports the compressor unavailable. Without this the build fails on the one not installed.
 */
export const OPTIONAL_NATIVE_PACKAGES: readonly string[] = ["@mongodb-js/zstd", "node-liblzma"];

/** Bundles an entry file (a path) or source text (`stdin`, resolving imports from its resolveDir). */
export function bundleForNode(entry: string | StdinOptions, outfile: string): Promise<BuildResult<{ metafile: true }>> {
  return build({
    ...(typeof entry === "string" ? { entryPoints: [entry] } : { stdin: entry }),
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    external: [...OPTIONAL_NATIVE_PACKAGES],
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
}

if (import.meta.main) {
  const result = await bundleForNode(`${ROOT}src/cli/main.ts`, OUTFILE);
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  console.log(`built ${OUTFILE} (${(bytes / 1024).toFixed(0)} KiB)`);
}
