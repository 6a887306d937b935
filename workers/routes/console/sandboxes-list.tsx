/** Sandboxes (GET /console/sandboxes, paged by id): backend, size against quota, activity, expiry. */
import { Hono } from "hono";
import { z } from "zod";
import { backendLabel } from "../../../durable-objects/sandbox/backend-scope.ts";
import { SANDBOX_ID_PATTERN } from "../../../durable-objects/sandbox/options.ts";
import type { SandboxSummary } from "../../../durable-objects/sandbox/status.ts";
import { Table } from "../../../src/console/components/table.tsx";
import { Notice, Pager, Time } from "../../../src/console/components/widgets.tsx";
import { formatBytes } from "../../../src/console/format.ts";
import type { ConsoleEnv } from "../../env.ts";
import { noticeText, renderPage } from "./render.tsx";
import { listSandboxes } from "./sandbox-data.ts";

export const sandboxesListRoutes = new Hono<ConsoleEnv>();

export const SANDBOXES_PER_PAGE = 25;

const ListQuerySchema = z.object({ after: z.string().regex(SANDBOX_ID_PATTERN).optional() });

/** "12 KiB of 256 MiB" for an edge sandbox; a gateway sandbox's size lives on its executor. */
export function sizeText(sandbox: SandboxSummary): string {
  if (sandbox.size_bytes === null) return "on the executor";
  const quota = sandbox.quota_bytes === null ? "" : ` of ${formatBytes(sandbox.quota_bytes)}`;
  return `${formatBytes(sandbox.size_bytes)}${quota}`;
}

sandboxesListRoutes.get("/sandboxes", async (c) => {
  const query = ListQuerySchema.safeParse(c.req.query());
  const after = query.success ? (query.data.after ?? null) : null;
  const page = await listSandboxes(c.env, after, SANDBOXES_PER_PAGE);
  const rows = page.rows.map((sandbox) => (
    <tr>
      <th scope="row">
        <a href={`/console/sandboxes/${sandbox.id}`} class="mono">
          {sandbox.id}
        </a>
      </th>
      <td class="mono">{backendLabel(sandbox.backend)}</td>
      <td class="num">{sizeText(sandbox)}</td>
      <td class="num">{sandbox.file_count ?? "—"}</td>
      <td>
        <Time ms={Date.parse(sandbox.last_activity)} />
      </td>
      <td>
        <Time ms={Date.parse(sandbox.expires_at)} />
      </td>
    </tr>
  ));
  return renderPage(
    c,
    { title: "Sandboxes", section: "sandboxes" },
    <>
      <h1>Sandboxes</h1>
      <Notice text={noticeText(c)} />
      <Table
        id="sandboxes"
        caption="Sandboxes"
        columns={[
          { label: "Sandbox" },
          { label: "Backend" },
          { label: "Size / quota", num: true },
          { label: "Files", num: true },
          { label: "Last activity" },
          { label: "Expires" },
        ]}
        rows={rows}
        empty="No sandboxes. Orchestrators create them with POST /v1/sandboxes."
      />
      <Pager
        label="Sandboxes"
        next={page.next}
        isFirst={after === null}
        href={(cursor) =>
          cursor === null ? "/console/sandboxes" : `/console/sandboxes?after=${encodeURIComponent(cursor)}`
        }
      />
    </>,
  );
});
