/**
 * A sandbox's files for operators: view a text file (GET …/view?path=), download one
 * (…/download?path=) or everything as a tar (…/export.tar). Downloads are always attachments of
 * type application/octet-stream with nosniff, so a file a sandbox wrote (HTML, SVG, a script) is
 * never rendered by the browser on the console's origin.
 */
import { Hono } from "hono";
import { z } from "zod";
import { Time } from "../../../src/console/components/widgets.tsx";
import { formatBytes } from "../../../src/console/format.ts";
import { unwrap } from "../../../src/errors/rpc-result.ts";
import { parseInput } from "../../../src/validation/parse-input.ts";
import type { ConsoleEnv } from "../../env.ts";
import { namedSandboxStub } from "../sandbox-stubs.ts";
import { parentDir } from "./file-tree.tsx";
import { renderPage } from "./render.tsx";
import { ADMIN_CALLER } from "./sandbox-data.ts";

export const sandboxFilesRoutes = new Hono<ConsoleEnv>();

/** A viewed file shows at most this much; the rest is a download away. */
export const VIEW_LIMIT = 256 * 1024;
const PathQuerySchema = z.object({ path: z.string().startsWith("/", "path must be absolute").max(4096) });

sandboxFilesRoutes.get("/sandboxes/:id/view", async (c) => {
  const id = c.req.param("id");
  const { path } = parseInput(PathQuerySchema, c.req.query(), "file path");
  const file = unwrap(await namedSandboxStub(c.env, id).getFile(ADMIN_CALLER, path));
  const size = Number(file.headers.get("content-length") ?? Number.NaN);
  const head = await readHead(file.body, VIEW_LIMIT);
  const text = decodeText(head);
  const dir = parentDir(path) ?? "/";
  const download = `/console/sandboxes/${id}/download?path=${encodeURIComponent(path)}`;
  return renderPage(
    c,
    { title: `${path} in ${id}`, section: "sandboxes" },
    <>
      <p class="breadcrumb">
        <a href="/console/sandboxes">Sandboxes</a> / <a href={`/console/sandboxes/${id}`}>{id}</a> /{" "}
        <a href={`/console/sandboxes/${id}?dir=${encodeURIComponent(dir)}`}>{dir}</a>
      </p>
      <h1 class="mono">{path}</h1>
      <p>
        {Number.isFinite(size) ? formatBytes(size) : ""} · <a href={download}>Download</a> ·{" "}
        <span class="muted">
          viewed <Time ms={Date.now()} />
        </span>
      </p>
      {text === null ? (
        <p>This file is not UTF-8 text: download it to look inside.</p>
      ) : (
        <>
          {head.byteLength < size && (
            <p class="notice">
              Showing the first {formatBytes(head.byteLength)} of {formatBytes(size)}.
            </p>
          )}
          <pre data-testid="file-content">{text}</pre>
        </>
      )}
    </>,
  );
});

sandboxFilesRoutes.get("/sandboxes/:id/download", async (c) => {
  const id = c.req.param("id");
  const { path } = parseInput(PathQuerySchema, c.req.query(), "file path");
  const file = unwrap(await namedSandboxStub(c.env, id).getFile(ADMIN_CALLER, path));
  const length = Number(file.headers.get("content-length") ?? Number.NaN);
  // A stream that crossed RPC has no length of its own: restore it, so browsers show progress.
  const body =
    file.body && Number.isSafeInteger(length) ? file.body.pipeThrough(new FixedLengthStream(length)) : file.body;
  return new Response(body, { headers: attachment(path.slice(path.lastIndexOf("/") + 1) || "file") });
});

sandboxFilesRoutes.get("/sandboxes/:id/export.tar", async (c) => {
  const id = c.req.param("id");
  const tar = unwrap(await namedSandboxStub(c.env, id).exportTar(ADMIN_CALLER));
  return new Response(tar, { headers: { ...attachment(`${id}.tar`), "content-type": "application/x-tar" } });
});

function attachment(name: string): Record<string, string> {
  // The plain filename keeps to safe ASCII; filename* carries the real name (RFC 6266).
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, "_");
  return {
    "content-type": "application/octet-stream",
    "content-disposition": `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
  };
}

/** The first `limit` bytes of a stream; the rest is cancelled, never read. */
async function readHead(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const out = new Uint8Array(limit);
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = Math.min(value.byteLength, limit - size);
    out.set(value.subarray(0, take), size);
    size += take;
  }
  await reader.cancel().catch(() => {});
  return out.subarray(0, size);
}

/** The bytes as text, or null for a binary file (a NUL byte, or not UTF-8 apart from a cut last character). */
function decodeText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return null;
  }
}
