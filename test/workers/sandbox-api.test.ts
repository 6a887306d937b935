import { beforeAll, describe, expect, test } from "vitest";
import { ADMIN, bash, call, createSandbox, textOf, uniqueId, warmUp } from "./sandbox-helpers.ts";

beforeAll(warmUp, 60_000);

describe("creating sandboxes", () => {
  test("create returns a scoped token, endpoints and the default TTL", async () => {
    const id = uniqueId("api");
    const created = await createSandbox({ id });
    expect(created.id).toBe(id);
    expect(created.created).toBe(true);
    expect(created.token).toMatch(new RegExp(`^tth\\.sb\\.${id}\\.`));
    expect(created.ttl_seconds).toBe(86_400);
    expect(created.endpoints.tool_calls).toBe(`http://edge/v1/sandboxes/${id}/tool-calls`);
  });

  test("an id is generated when none is given", async () => {
    const created = await createSandbox({});
    expect(created.id).toMatch(/^sb_[A-Za-z0-9_-]{20}$/);
  });

  test("create is idempotent: the same sandbox, its files kept, both tokens valid", async () => {
    const id = uniqueId("idem");
    const first = await createSandbox({ id, files: { "a.txt": "first" } });
    const second = await createSandbox({ id, files: { "a.txt": "second" } });
    expect(second.created).toBe(false);
    const read = await call(`/v1/sandboxes/${id}/files/workspace/a.txt`, first.token);
    expect(await textOf(read)).toBe("first");
    expect((await call(`/v1/sandboxes/${id}`, second.token)).status).toBe(200);
  });

  test("tokens are listed by id and a revoked one gets 401 while the others keep working", async () => {
    const id = uniqueId("revoke");
    const first = await createSandbox({ id });
    const second = await createSandbox({ id });
    const third = await createSandbox({ id });
    expect(new Set([first.token_id, second.token_id, third.token_id]).size).toBe(3);
    const listed = await call(`/v1/sandboxes/${id}/tokens`, first.token);
    expect(listed.status).toBe(200);
    const { tokens } = (await listed.json()) as { tokens: { id: string; created_at: number }[] };
    expect(tokens.map((t) => t.id).sort()).toEqual([first.token_id, second.token_id, third.token_id].sort());
    expect(JSON.stringify(tokens)).not.toContain(first.token.split(".").at(-1));

    const revoked = await call(`/v1/sandboxes/${id}/tokens/${second.token_id}`, first.token, { method: "DELETE" });
    expect(revoked.status).toBe(204);
    const refused = await call(`/v1/sandboxes/${id}`, second.token);
    expect(refused.status).toBe(401);
    await expect(bash(second, "echo no")).rejects.toThrow(/tool-calls failed: 401/);
    expect((await call(`/v1/sandboxes/${id}`, first.token)).status).toBe(200);
    expect((await bash(third, "echo still")).text).toBe("still\n");
    const after = (await (await call(`/v1/sandboxes/${id}/tokens`, ADMIN)).json()) as { tokens: { id: string }[] };
    expect(after.tokens.map((t) => t.id).sort()).toEqual([first.token_id, third.token_id].sort());

    // Revoking again, or an id that never existed, is 404 and changes nothing.
    expect((await call(`/v1/sandboxes/${id}/tokens/${second.token_id}`, ADMIN, { method: "DELETE" })).status).toBe(404);
    expect((await call(`/v1/sandboxes/${id}/tokens/sbt_nope`, third.token, { method: "DELETE" })).status).toBe(404);
    // A token may revoke itself; afterwards it is refused like any revoked one.
    expect((await call(`/v1/sandboxes/${id}/tokens/${third.token_id}`, third.token, { method: "DELETE" })).status).toBe(
      204,
    );
    expect((await call(`/v1/sandboxes/${id}`, third.token)).status).toBe(401);
    expect((await call(`/v1/sandboxes/${id}`, first.token)).status).toBe(200);
  });

  test("invalid create bodies are 400 naming the field; nothing is created", async () => {
    const id = uniqueId("bad");
    const res = await call("/v1/sandboxes", ADMIN, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id, ttl_seconds: -5 }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain("ttl_seconds");
    expect((await call(`/v1/sandboxes/${id}`, ADMIN)).status).toBe(404);
    const badId = await call("/v1/sandboxes", ADMIN, { method: "POST", body: JSON.stringify({ id: "no/slash" }) });
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: { message: string } }).error.message).toContain("id");
    const notJson = await call("/v1/sandboxes", ADMIN, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
  });

  test("initial files past the quota: 507, and no sandbox is left behind", async () => {
    const id = uniqueId("toobig");
    const res = await call("/v1/sandboxes", ADMIN, {
      method: "POST",
      body: JSON.stringify({ id, quota_bytes: 1024, files: { "a.txt": "x".repeat(600), "b.txt": "y".repeat(600) } }),
    });
    expect(res.status).toBe(507);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^initial files: .*quota/);
    expect((await call(`/v1/sandboxes/${id}`, ADMIN)).status).toBe(404);
    expect((await createSandbox({ id })).created).toBe(true);
  });

  test("initial env and files are applied", async () => {
    const sandbox = await createSandbox({
      env: { GREETING: "hello" },
      files: { "notes/a.txt": "A", "/etc/conf": "C" },
    });
    const out = await bash(sandbox, 'echo "$GREETING"; cat notes/a.txt /etc/conf; pwd');
    expect(out.text).toBe("hello\nAC/workspace\n");
  });
});

describe("tokens", () => {
  test("missing or malformed tokens are 401 with WWW-Authenticate", async () => {
    const sandbox = await createSandbox();
    for (const token of [null, "nonsense", `tth.sb.${sandbox.id}.${"x".repeat(32)}`]) {
      const res = await call(`/v1/sandboxes/${sandbox.id}`, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    }
    expect((await call("/v1/sandboxes", null, { method: "POST", body: "{}" })).status).toBe(401);
  });

  test("another sandbox's token gets the same 404 as a missing sandbox", async () => {
    const a = await createSandbox();
    const b = await createSandbox();
    const cross = await call(`/v1/sandboxes/${b.id}`, a.token);
    const missing = await call(`/v1/sandboxes/${uniqueId("nobody")}`, ADMIN);
    expect(cross.status).toBe(404);
    expect(await cross.json()).toEqual(await missing.json());
  });

  test("a sandbox token cannot create sandboxes", async () => {
    const a = await createSandbox();
    const res = await call("/v1/sandboxes", a.token, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
  });

  test("API tokens: create sandboxes, use their own, 404 on others', revoked → 401", async () => {
    const minted = await call("/admin/tokens", ADMIN, {
      method: "POST",
      body: JSON.stringify({ label: "orchestrator" }),
    });
    expect(minted.status).toBe(201);
    const api = (await minted.json()) as { id: string; token: string; label: string };
    expect(api.token).toMatch(new RegExp(`^tth\\.api\\.${api.id}\\.`));

    const own = await createSandbox({}, api.token);
    expect((await call(`/v1/sandboxes/${own.id}`, api.token)).status).toBe(200);
    const others = await createSandbox({});
    expect((await call(`/v1/sandboxes/${others.id}`, api.token)).status).toBe(404);
    // Claiming someone else's id is refused, and no token for it is handed out.
    const claim = await call("/v1/sandboxes", api.token, { method: "POST", body: JSON.stringify({ id: others.id }) });
    expect(claim.status).toBe(409);

    const listed = (await (await call("/admin/tokens", ADMIN)).json()) as { tokens: Array<Record<string, unknown>> };
    const entry = listed.tokens.find((t) => t.id === api.id);
    expect(entry).toMatchObject({ label: "orchestrator", revoked_at: null });
    expect(JSON.stringify(listed)).not.toContain(api.token.split(".")[3]);

    expect((await call(`/admin/tokens/${api.id}`, ADMIN, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/v1/sandboxes/${own.id}`, api.token)).status).toBe(401);
    expect((await call("/v1/sandboxes", api.token, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await call(`/admin/tokens/${api.id}`, ADMIN, { method: "DELETE" })).status).toBe(404);
    // The sandbox itself lives on, for its own token.
    expect((await call(`/v1/sandboxes/${own.id}`, own.token)).status).toBe(200);
  });

  test("admin token routes refuse other tokens", async () => {
    const a = await createSandbox();
    expect((await call("/admin/tokens", a.token)).status).toBe(401);
    expect((await call("/admin/sandboxes", a.token)).status).toBe(401);
    // Routes below the prefixes too, before anything is looked up.
    expect((await call(`/admin/sandboxes/${a.id}`, a.token)).status).toBe(401);
    expect((await call("/admin/tokens/anything", null, { method: "DELETE" })).status).toBe(401);
    const bad = await call("/admin/tokens", ADMIN, { method: "POST", body: JSON.stringify({}) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      "invalid token request: label: required",
    );
  });
});

describe("deleting", () => {
  test("DELETE destroys the sandbox and its storage; its token then gets 404", async () => {
    const sandbox = await createSandbox({ files: { "keep.txt": "x" } });
    expect((await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).status).toBe(404);
    expect((await call(`/v1/sandboxes/${sandbox.id}/files/workspace/keep.txt`, ADMIN)).status).toBe(404);
    const list = (await (await call("/admin/sandboxes", ADMIN)).json()) as { sandboxes: Array<{ id: string }> };
    expect(list.sandboxes.map((s) => s.id)).not.toContain(sandbox.id);
    // Created again under the same id, it starts empty.
    const again = await createSandbox({ id: sandbox.id });
    expect(again.created).toBe(true);
    expect((await call(`/v1/sandboxes/${sandbox.id}/files/workspace/keep.txt`, again.token)).status).toBe(404);
  });
});
