/**
 * One sandbox (GET /console/sandboxes/:id, `?dir=` browses its files): figures, shell state by
 * names only (values may hold secrets), the file tree, the tool-call trace, and deleting it
 * (POST …/delete, the id typed again as confirmation).
 */
import { Hono } from "hono";
import { z } from "zod";
import { backendLabel } from "../../../durable-objects/sandbox/backend-scope.ts";
import type { SandboxDetails } from "../../../durable-objects/sandbox/status.ts";
import { recordOperatorAction } from "../../../src/audit/operator-action.ts";
import { DeleteSection } from "../../../src/console/components/delete-section.tsx";
import { Table } from "../../../src/console/components/table.tsx";
import { Notice, StatusText, Time } from "../../../src/console/components/widgets.tsx";
import { StatsList } from "../../../src/console/components/window-stats.tsx";
import { formatBytes } from "../../../src/console/format.ts";
import { asTetherError } from "../../../src/errors/error-response.ts";
import { unwrap } from "../../../src/errors/rpc-result.ts";
import { TetherError } from "../../../src/errors/tether-error.ts";
import type { ConsoleEnv } from "../../env.ts";
import { namedSandboxStub } from "../sandbox-stubs.ts";
import { dirSummary, type FileEntry, listDirectory, normalDir, parentDir } from "./file-tree.tsx";
import { confirmDeletion } from "./form-body.ts";
import { noticeText, redirectWithNotice, renderPage } from "./render.tsx";
import { ADMIN_CALLER, sandboxDetails } from "./sandbox-data.ts";
import { SANDBOX_TRACE_ROWS, SandboxTrace } from "./sandbox-trace.tsx";
import { sizeText } from "./sandboxes-list.tsx";

export const sandboxPageRoutes = new Hono<ConsoleEnv>();

const DirSchema = z.string().startsWith("/").max(4096);
const BeforeSchema = z.coerce.number().int().min(1).optional();
export const DEFAULT_DIR = "/workspace";

sandboxPageRoutes.get("/sandboxes/:id", async (c) => {
  const id = c.req.param("id");
  const dirParam = DirSchema.safeParse(c.req.query("dir") ?? DEFAULT_DIR);
  if (!dirParam.success) throw new TetherError("bad_request", "dir must be an absolute path");
  const dir = normalDir(dirParam.data);
  const before = BeforeSchema.safeParse(c.req.query("before"));
  if (!before.success) throw new TetherError("bad_request", "before must be a call id");
  const sandbox = namedSandboxStub(c.env, id);
  const [details, trace, files] = await Promise.all([
    sandboxDetails(c.env, id),
    sandbox.traces({ limit: SANDBOX_TRACE_ROWS, before: before.data }),
    // A failure here is shown in the file section, not as the page's error.
    sandbox
      .listFiles(ADMIN_CALLER, dir)
      .then((listed): FileEntry[] => unwrap(listed))
      .catch(asTetherError),
  ]);
  const pageOf = (cursor: string | null) => {
    const params = new URLSearchParams();
    if (dir !== DEFAULT_DIR) params.set("dir", dir);
    if (cursor !== null) params.set("before", cursor);
    const search = params.toString();
    return `/console/sandboxes/${id}${search ? `?${search}` : ""}#sandbox-trace-heading`;
  };
  const csrf = c.get("csrfToken");
  return renderPage(
    c,
    { title: `Sandbox ${id}`, section: "sandboxes" },
    <>
      <p class="breadcrumb">
        <a href="/console/sandboxes">Sandboxes</a> / {id}
      </p>
      <h1>Sandbox {id}</h1>
      <Notice text={noticeText(c)} />
      <StatsList
        items={[
          ["Backend", backendLabel(details.backend)],
          ["Size / quota", sizeText(details)],
          ["Files", details.file_count ?? "—"],
          ["Calls running or queued", details.busy],
        ]}
      />
      <p class="muted">
        Created <Time ms={Date.parse(details.created_at)} />, last activity{" "}
        <Time ms={Date.parse(details.last_activity)} />, expires <Time ms={Date.parse(details.expires_at)} /> (
        {details.ttl_seconds} s idle).
        {details.network.allow.length > 0 ? ` Network allowed: ${details.network.allow.join(", ")}.` : " No network."}
      </p>
      {details.gateway && <GatewayStatusText gateway={details.gateway} />}
      <ShellState shell={details.shell} />
      <section aria-labelledby="files-heading">
        <h2 id="files-heading">Files</h2>
        <p>
          <a class="button secondary" href={`/console/sandboxes/${id}/export.tar`} download>
            Download the tar export
          </a>
        </p>
        <FileBrowser id={id} dir={dir} files={files} />
      </section>
      <SandboxTrace page={unwrap(trace)} isFirst={before.data === undefined} href={pageOf} />
      <DeleteSection
        heading="Delete the sandbox"
        action={`/console/sandboxes/${id}/delete`}
        consequence="Aborts its running calls and deletes its files, shell state, tokens and trace."
        confirmLabel="Type the sandbox id to confirm"
        button="Delete sandbox"
        csrfToken={csrf}
      />
    </>,
  );
});

sandboxPageRoutes.post("/sandboxes/:id/delete", async (c) => {
  const id = c.req.param("id");
  await confirmDeletion(c, { kind: "sandbox", key: "id", expected: id });
  unwrap(await namedSandboxStub(c.env, id).destroy(ADMIN_CALLER));
  await recordOperatorAction(c.env, c.get("operator"), { action: "sandbox.deleted", sandbox: id });
  return redirectWithNotice(c, "/console/sandboxes", "sandbox-deleted");
});

function GatewayStatusText(props: { gateway: NonNullable<SandboxDetails["gateway"]> }) {
  const g = props.gateway;
  return (
    <p>
      Executor instance <span class="mono">{g.instance ?? "not contacted yet"}</span> via gateway{" "}
      <span class="mono">{g.gateway_id ?? "none"}</span>:{" "}
      <StatusText ok={g.connected}>{g.connected ? "connected" : "not connected"}</StatusText>
      {g.workspace_bytes !== null ? `, workspace ${formatBytes(g.workspace_bytes)}` : ""}
      {g.workspace_error ? ` (${g.workspace_error})` : ""}
    </p>
  );
}

function ShellState(props: { shell: SandboxDetails["shell"] }) {
  const shell = props.shell;
  return (
    <section aria-labelledby="shell-heading">
      <h2 id="shell-heading">Shell state</h2>
      {shell === null ? (
        <p class="muted">The shell runs on the executor's machine.</p>
      ) : (
        <dl>
          <dt>Working directory</dt>
          <dd class="mono">{shell.cwd}</dd>
          <dt>Variables (names only; values are never shown)</dt>
          <dd class="mono" data-testid="shell-variables">
            {shell.variables.length > 0 ? shell.variables.join(" ") : "none"}
          </dd>
          <dt>Functions</dt>
          <dd class="mono">{shell.functions.length > 0 ? shell.functions.join(" ") : "none"}</dd>
        </dl>
      )}
    </section>
  );
}

function FileBrowser(props: { id: string; dir: string; files: FileEntry[] | TetherError }) {
  const { id, dir, files } = props;
  if (files instanceof TetherError) {
    // A gateway sandbox's files are on its executor (the tar export still works), or too many to list.
    return (
      <p class="muted">
        Cannot list {dir}: {files.message}
      </p>
    );
  }
  const listing = listDirectory(dir, files);
  const parent = parentDir(dir);
  const browse = (path: string) => `/console/sandboxes/${id}?dir=${encodeURIComponent(path)}`;
  const rows = [
    ...(parent === null
      ? []
      : [
          <tr>
            <td colspan={4}>
              <a href={browse(parent)} aria-label={`Up to ${parent}`}>
                ..
              </a>
            </td>
          </tr>,
        ]),
    ...listing.dirs.map((entry) => (
      <tr>
        <td>
          <a href={browse(entry.path)} aria-label={`Open directory ${entry.path}`}>
            {entry.name}/
          </a>
        </td>
        <td class="num">{dirSummary(entry)}</td>
        <td />
        <td />
      </tr>
    )),
    ...listing.files.map((file) => (
      <tr>
        <td>
          <a
            href={`/console/sandboxes/${id}/view?path=${encodeURIComponent(file.path)}`}
            aria-label={`View ${file.path}`}
          >
            {file.name}
          </a>
        </td>
        <td class="num">{formatBytes(file.size)}</td>
        <td>
          <Time ms={file.mtimeMs} />
        </td>
        <td>
          <a
            href={`/console/sandboxes/${id}/download?path=${encodeURIComponent(file.path)}`}
            aria-label={`Download ${file.path}`}
          >
            Download
          </a>
        </td>
      </tr>
    )),
  ];
  return (
    <Table
      id="files"
      caption={`Files in ${dir}`}
      columns={[{ label: "Name" }, { label: "Size", num: true }, { label: "Modified" }, { label: "Download" }]}
      rows={rows}
      empty={`No files in ${dir}.`}
    />
  );
}
