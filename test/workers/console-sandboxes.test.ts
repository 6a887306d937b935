import { beforeAll, describe, expect, test } from "vitest";
import { consoleFetch, expectNoSecrets, page, post, tableRows, textOf } from "./console-page-fixtures.ts";
import { bash, call, createSandbox, runTool, uniqueId, warmUp } from "./sandbox-helpers.ts";

beforeAll(warmUp, 120_000);

const SECRET_VALUE = "s3cr3t-value-never-shown";

describe("console: sandboxes", () => {
  test("the list shows backend, size against quota, activity and expiry, linking to each sandbox", async () => {
    const sandbox = await createSandbox({
      id: uniqueId("list"),
      files: { "a.txt": "hello" },
      quota_bytes: 1024 * 1024,
    });
    const html = await page("/console/sandboxes");
    const row = tableRows(html, "sandboxes").find((r) => r.includes(`href="/console/sandboxes/${sandbox.id}"`));
    expect(textOf(row ?? "")).toMatch(/edge 5 B of 1 MiB 1 \d{4}-\d\d-\d\d [\d:]+Z \d{4}-\d\d-\d\d [\d:]+Z/);
    expectNoSecrets(html, [sandbox.token]);
  });

  test("the sandbox page shows shell variable names but never their values, and the tool calls", async () => {
    const sandbox = await createSandbox({ id: uniqueId("page"), env: { API_KEY: SECRET_VALUE } });
    await bash(sandbox, `export DB_PASSWORD=${SECRET_VALUE}-2; cd /tmp`);
    const failing = await runTool(sandbox, "str_replace_based_edit_tool", { command: "view", path: "/nope.txt" });
    expect(failing.isError).toBe(true);
    const html = await page(`/console/sandboxes/${sandbox.id}`);
    const variables = /data-testid="shell-variables">([^<]*)</.exec(html)?.[1] ?? "";
    expect(variables.split(" ")).toEqual(expect.arrayContaining(["API_KEY", "DB_PASSWORD"]));
    expect(html).not.toContain(SECRET_VALUE);
    expect(textOf(html)).toContain("Working directory /tmp");
    const calls = tableRows(html, "sandbox-trace").map(textOf);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/str_replace_based_edit_tool tu_\w+ sandbox-token:sbt_\w+ error/);
    expect(calls[1]).toMatch(/bash tu_\w+ sandbox-token:sbt_\w+ ok/);
    expectNoSecrets(html, [sandbox.token]);
  });

  test("the file tree browses directories, views a text file and downloads files and the tar export", async () => {
    const sandbox = await createSandbox({
      id: uniqueId("files"),
      files: {
        "src/main.ts": "console.log(1);\n",
        "src/lib/util.ts": "export {};\n",
        "README.md": "# Hi <b>there</b>\n",
      },
    });
    const root = await page(`/console/sandboxes/${sandbox.id}`);
    const entries = tableRows(root, "files").map(textOf);
    expect(entries).toEqual([
      expect.stringContaining(".."),
      expect.stringMatching(/src\/ 2 files, 27 B/),
      expect.stringMatching(/README\.md 18 B .* Download/),
    ]);
    const src = await page(`/console/sandboxes/${sandbox.id}?dir=${encodeURIComponent("/workspace/src")}`);
    expect(tableRows(src, "files").map(textOf)).toEqual([
      expect.stringContaining(".."),
      expect.stringMatching(/lib\/ 1 file, 11 B/),
      expect.stringMatching(/main\.ts 16 B/),
    ]);
    const view = await page(`/console/sandboxes/${sandbox.id}/view?path=${encodeURIComponent("/workspace/README.md")}`);
    expect(view).toContain('<pre data-testid="file-content"># Hi &lt;b&gt;there&lt;/b&gt;\n</pre>');
    const download = await consoleFetch(`/console/sandboxes/${sandbox.id}/download?path=%2Fworkspace%2FREADME.md`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/octet-stream");
    expect(download.headers.get("x-content-type-options")).toBe("nosniff");
    expect(download.headers.get("content-disposition")).toBe(
      `attachment; filename="README.md"; filename*=UTF-8''README.md`,
    );
    expect(await download.text()).toBe("# Hi <b>there</b>\n");
    const tar = await consoleFetch(`/console/sandboxes/${sandbox.id}/export.tar`);
    expect(tar.status).toBe(200);
    expect(tar.headers.get("content-type")).toBe("application/x-tar");
    expect(tar.headers.get("content-disposition")).toContain(`filename="${sandbox.id}.tar"`);
    const bytes = new Uint8Array(await tar.arrayBuffer());
    expect(new TextDecoder().decode(bytes)).toContain("console.log(1);");
  });

  test("a binary file is not shown as text; a missing file or sandbox is a 404 page", async () => {
    const sandbox = await createSandbox({ id: uniqueId("bin") });
    const put = await call(`/v1/sandboxes/${sandbox.id}/files/workspace/blob.bin`, sandbox.token, {
      method: "PUT",
      body: new Uint8Array([0, 1, 2, 255, 254]),
    });
    expect(put.status).toBe(201);
    const view = await page(`/console/sandboxes/${sandbox.id}/view?path=/workspace/blob.bin`);
    expect(view).toContain("not UTF-8 text");
    expect(view).not.toContain("file-content");
    expect((await consoleFetch(`/console/sandboxes/${sandbox.id}/view?path=/workspace/none.txt`)).status).toBe(404);
    expect((await consoleFetch(`/console/sandboxes/${sandbox.id}/view?path=relative.txt`)).status).toBe(400);
    expect((await consoleFetch("/console/sandboxes/no-such-sandbox")).status).toBe(404);
    expect((await consoleFetch("/console/sandboxes/bad%20id!")).status).toBe(404);
  });

  test("file names with markup are escaped in the tree and the download header", async () => {
    const sandbox = await createSandbox({ id: uniqueId("esc"), files: { "<b onmouseover=x>.txt": "x" } });
    const html = await page(`/console/sandboxes/${sandbox.id}`);
    expect(html).not.toContain("<script>x</script>");
    expect(html).not.toContain("<b onmouseover");
    expect(html).toContain("&lt;b onmouseover=x&gt;.txt");
    const download = await consoleFetch(
      `/console/sandboxes/${sandbox.id}/download?path=${encodeURIComponent("/workspace/<b onmouseover=x>.txt")}`,
    );
    expect(download.headers.get("content-disposition")).toBe(
      `attachment; filename="_b_onmouseover_x_.txt"; filename*=UTF-8''%3Cb%20onmouseover%3Dx%3E.txt`,
    );
  });

  test("deleting needs the id typed again; then the sandbox is gone", async () => {
    const sandbox = await createSandbox({ id: uniqueId("del") });
    expect((await post(`/console/sandboxes/${sandbox.id}/delete`, { confirm: "nope" })).status).toBe(400);
    expect((await consoleFetch(`/console/sandboxes/${sandbox.id}`)).status).toBe(200);
    const res = await post(`/console/sandboxes/${sandbox.id}/delete`, { confirm: sandbox.id });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/sandboxes?notice=sandbox-deleted");
    expect((await consoleFetch(`/console/sandboxes/${sandbox.id}`)).status).toBe(404);
    expect((await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(404);
    expect(await page("/console/sandboxes?notice=sandbox-deleted")).toContain("Sandbox deleted.");
  });
});
