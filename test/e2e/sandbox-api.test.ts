import { createHash } from "node:crypto";
import { unpackTar } from "modern-tar";
import { describe, expect, test } from "vitest";
import { eventually, sandboxEdge } from "./sandbox-helpers.ts";

const sb = sandboxEdge();

describe("sandbox lifecycle over HTTP", () => {
  test("create is idempotent for an id: same sandbox, a fresh token each time, files kept", async () => {
    const first = await sb.create({ id: "e2e-idem", files: { "a.txt": "first" } });
    const second = await sb.create({ id: "e2e-idem", files: { "a.txt": "second" } });
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.token).not.toBe(first.token);
    for (const token of [first.token, second.token]) {
      const res = await sb.call("/v1/sandboxes/e2e-idem/files/workspace/a.txt", token);
      expect(await res.text()).toBe("first");
    }
  });

  test("tokens: none or garbage → 401 with WWW-Authenticate; another sandbox's → the missing-sandbox 404", async () => {
    const a = await sb.create();
    const b = await sb.create();
    const none = await sb.call(`/v1/sandboxes/${a.id}`, null);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect((await sb.call(`/v1/sandboxes/${a.id}`, "tth.sb.garbage")).status).toBe(401);
    const block = JSON.stringify({ type: "tool_use", id: "t", name: "bash", input: { command: "true" } });
    const cross = await sb.call(`/v1/sandboxes/${b.id}/tool-calls`, a.token, { method: "POST", body: block });
    const missing = await sb.call("/v1/sandboxes/never-created/tool-calls", sb.edge().adminToken, {
      method: "POST",
      body: block,
    });
    expect([cross.status, missing.status]).toEqual([404, 404]);
    expect(await cross.json()).toEqual(await missing.json());
  });

  test("API tokens: minted once by the admin, create and use sandboxes, revoked → 401", async () => {
    const minted = await sb.call("/admin/tokens", sb.edge().adminToken, {
      method: "POST",
      body: JSON.stringify({ label: "ci" }),
    });
    expect(minted.status).toBe(201);
    const { id, token } = (await minted.json()) as { id: string; token: string };
    const own = await sb.create({}, token);
    expect((await sb.bash({ ...own, token }, "echo via api token")).text).toBe("via api token\n");
    const list = await (await sb.call("/admin/tokens", sb.edge().adminToken)).text();
    expect(list).toContain(id);
    expect(list).not.toContain(token);
    expect((await sb.call(`/admin/tokens/${id}`, sb.edge().adminToken, { method: "DELETE" })).status).toBe(204);
    expect((await sb.call("/v1/sandboxes", token, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await sb.call(`/v1/sandboxes/${own.id}`, token)).status).toBe(401);
  });

  test("a deleted sandbox is 404, its storage gone", async () => {
    const sandbox = await sb.create({ files: { "x.txt": "x" } });
    expect((await sb.call(`/v1/sandboxes/${sandbox.id}`, sandbox.token, { method: "DELETE" })).status).toBe(204);
    expect((await sb.call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(404);
    expect((await sb.call(`/v1/sandboxes/${sandbox.id}/files/workspace/x.txt`, sb.edge().adminToken)).status).toBe(404);
  });

  test("an expired sandbox (TTL of inactivity passed) is destroyed by its alarm → 404", async () => {
    const sandbox = await sb.create({ ttl_seconds: 1, files: { "x.txt": "x" } });
    // Watch through the admin list, which does not count as activity (polling the sandbox would).
    await eventually(async () => {
      const list = (await (await sb.call("/admin/sandboxes", sb.edge().adminToken)).json()) as {
        sandboxes: Array<{ id: string }>;
      };
      return !list.sandboxes.some((s) => s.id === sandbox.id);
    });
    expect((await sb.call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(404);
    expect((await sb.call(`/admin/sandboxes/${sandbox.id}`, sb.edge().adminToken)).status).toBe(404);
  });
});

describe("staging files over HTTP", () => {
  test("a 50 MiB file streams in through PUT and back out through GET byte-identical", async () => {
    const sandbox = await sb.create();
    const size = 50 * 1024 * 1024;
    const chunk = 256 * 1024;
    const sent = createHash("sha256");
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= size) return controller.close();
        const bytes = new Uint8Array(chunk);
        for (let i = 0; i < chunk; i++) bytes[i] = ((offset + i) * 2654435761) >>> 24;
        offset += chunk;
        sent.update(bytes);
        controller.enqueue(bytes);
      },
    });
    const put = await sb.call(`/v1/sandboxes/${sandbox.id}/files/workspace/big.bin`, sandbox.token, {
      method: "PUT",
      body,
      duplex: "half",
    });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ bytes: size });
    const get = await sb.call(`/v1/sandboxes/${sandbox.id}/files/workspace/big.bin`, sandbox.token);
    expect(get.headers.get("content-length")).toBe(String(size));
    const received = createHash("sha256");
    let length = 0;
    for await (const part of get.body!) {
      received.update(part);
      length += part.byteLength;
    }
    expect(length).toBe(size);
    expect(received.digest("hex")).toBe(sent.digest("hex"));
  });

  test("past the quota: 507 naming the quota, the old file intact, no partial data counted", async () => {
    const sandbox = await sb.create({ quota_bytes: 2 * 1024 * 1024 });
    const path = `/v1/sandboxes/${sandbox.id}/files/workspace/f.bin`;
    expect((await sb.call(path, sandbox.token, { method: "PUT", body: "original" })).status).toBe(201);
    const before = (await (await sb.call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).json()) as {
      size_bytes: number;
    };
    const res = await sb.call(path, sandbox.token, { method: "PUT", body: new Uint8Array(3 * 1024 * 1024) });
    expect(res.status).toBe(507);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("quota_exceeded");
    expect(error.message).toContain("2 MiB");
    // The refused body was taken in and dropped, so the connection stays usable for what follows.
    expect(await (await sb.call(path, sandbox.token)).text()).toBe("original");
    const after = (await (await sb.call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).json()) as {
      size_bytes: number;
    };
    expect(after.size_bytes).toBe(before.size_bytes);
  });

  test("export.tar lists the tree; modern-tar parses it back", async () => {
    const sandbox = await sb.create({ files: { "README.md": "# hi\n", "src/main.js": "run()\n" } });
    await sb.bash(sandbox, "mkdir -p out && seq 1 1000 > out/numbers.txt && ln -s ../README.md out/link");
    const res = await sb.call(`/v1/sandboxes/${sandbox.id}/export.tar`, sandbox.token);
    expect(res.status).toBe(200);
    const entries = await unpackTar(new Uint8Array(await res.arrayBuffer()), { strict: true });
    const names = entries.map((e) => e.header.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "workspace/",
        "workspace/README.md",
        "workspace/src/main.js",
        "workspace/out/numbers.txt",
      ]),
    );
    const numbers = entries.find((e) => e.header.name === "workspace/out/numbers.txt")!;
    expect(new TextDecoder().decode(numbers.data).split("\n")[999]).toBe("1000");
    const link = entries.find((e) => e.header.name === "workspace/out/link");
    expect(link?.header).toMatchObject({ type: "symlink", linkname: "../README.md" });
  });
});
