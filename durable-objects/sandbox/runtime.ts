import { BashSession } from "../../src/sandbox/bash/bash-session.ts";
import { SqlShellStateStore } from "../../src/sandbox/bash/shell-state.ts";
import { SqliteFs } from "../../src/sandbox/fs/sqlite-fs.ts";
import { sandboxFilesFromFs } from "../../src/sandbox/run-code/files.ts";
import { runCode } from "../../src/sandbox/run-code/run-code.ts";
import type { TarTree } from "../../src/sandbox/tar-export.ts";
import type { ToolContext } from "../../src/sandbox/tools/context.ts";
import type { Env } from "../../workers/env.ts";
import type { SandboxMeta } from "./meta-store.ts";

/**
 * The live parts of a sandbox, built from its storage when the object wakes (and rebuilt after
 * eviction, which keeps everything that matters in SQLite):
 *   - SqliteFs over `ctx.storage.sql` (tables fs_*), with the sandbox's quota (default 256 MiB),
 *     which also counts the shell state and the tool-call trace;
 *   - BashSession over that filesystem, its cwd/exported variables/functions in shell_state, every
 *     fresh shell starting with the sandbox's initial env;
 *   - run_code in a fresh Dynamic Worker isolate (env.LOADER), the sandbox's files reachable
 *     through a binding, fetch gated by the sandbox's network.allow list.
 */

export interface SandboxRuntime {
  fs: SqliteFs;
  bash: BashSession;
  tools: ToolContext;
  tree: TarTree;
}

export function openRuntime(ctx: DurableObjectState, env: Env, meta: SandboxMeta): SandboxRuntime {
  const shellState = new SqlShellStateStore(ctx.storage.sql);
  // The quota counts what the sandbox keeps beside its files too: its shell state. (Not the
  // tool-call trail: that is the operator's, bounded by its own retention, see ./trace.ts.)
  const externalBytes = () => shellState.storedBytes();
  const fs = new SqliteFs(ctx.storage, { quotaBytes: meta.quotaBytes, externalBytes });
  const bash = new BashSession(fs, shellState, { env: meta.env });
  // The files binding run_code's isolate calls back into: the same filesystem the shell sees.
  const files = sandboxFilesFromFs(fs);
  const allowHosts = meta.networkAllow;
  const tools: ToolContext = {
    fs,
    bash,
    runCode: (input) =>
      runCode(env.LOADER, input, {
        files,
        allowHosts,
        ...(allowHosts.length > 0 ? { egress: ctx.exports.EgressGate({ props: { allow: allowHosts } }) } : {}),
      }),
  };
  const tree: TarTree = {
    entries: () => fs.walk(),
    // Removed since it was listed: the export keeps its listed size (zeros) and stays well-formed.
    open: async (path) => ((await fs.exists(path)) ? fs.readStream(path) : new Blob([]).stream()),
  };
  return { fs, bash, tools, tree };
}
