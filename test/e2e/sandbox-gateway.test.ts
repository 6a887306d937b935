/**
 * Sandboxes whose backend is a gateway's executor, end to end: the real edge in workerd, an
 * in-process gateway dialing it, and a TEST executor upstream (test/helpers/test-executor-upstream.ts)
 * that answers the executor wire API with real `bash -c` and real files in a temporary directory.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ExecutorGateway, startExecutorGateway } from "../helpers/executor-gateway.ts";
import { createTunnel, type TunnelTokens } from "../helpers/mcp-client.ts";
import { eventually, sandboxEdge } from "./sandbox-helpers.ts";

const api = sandboxEdge();
const gatewayBackend = { type: "gateway", tunnel: "crm", executor: "main" };
let crm: TunnelTokens;
let main: ExecutorGateway;
const extra: ExecutorGateway[] = [];

beforeAll(async () => {
  crm = await createTunnel(api.edge(), "crm");
  main = await startExecutorGateway(api.edge(), "crm", crm.gatewayToken, { instance: "crm-a" });
});

afterAll(async () => {
  await Promise.all([main, ...extra].map((gateway) => gateway?.cleanup()));
});

const admin = (path: string, init: RequestInit = {}) => api.call(path, api.edge().adminToken, init);
const errorMessage = async (res: Response) => ((await res.json()) as { error: { message: string } }).error.message;
const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

describe("a sandbox on a gateway's executor", () => {
  test("create → bash → write/read → files put/get → export → delete, all on the executor's machine", async () => {
    const sandbox = await api.create({
      backend: gatewayBackend,
      files: { "hello.txt": "hi from create\n", "/workspace/sub/deep.txt": "deep" },
      env: { GREETING: "hello there" },
    });
    const workspace = join(main.root, sandbox.id, "workspace");
    expect(readFileSync(join(workspace, "hello.txt"), "utf8")).toBe("hi from create\n");
    expect(readFileSync(join(workspace, "sub/deep.txt"), "utf8")).toBe("deep");

    // Real bash: the working directory is the executor's real directory, and the env is the sandbox's.
    const ran = await api.bash(sandbox, 'cat hello.txt; echo "$GREETING"; pwd; echo oops >&2; exit 3');
    expect(ran.text).toContain("hi from create");
    expect(ran.text).toContain("hello there");
    expect(ran.text).toContain(workspace);
    expect(ran.text).toContain("oops");
    expect(ran.meta.exit_code).toBe(3);

    const wrote = await api.run(sandbox, "write", {
      file_path: "/workspace/notes.md",
      content: "line one\nline two\n",
    });
    expect(wrote.isError).toBe(false);
    expect(readFileSync(join(workspace, "notes.md"), "utf8")).toBe("line one\nline two\n");
    const read = await api.run(sandbox, "read", { file_path: "notes.md" });
    expect(read.text).toContain("line two");

    // A body larger than the stream's credit window travels streamed, byte for byte.
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 251);
    const put = await api.call(`/v1/sandboxes/${sandbox.id}/files/workspace/data/big.bin`, sandbox.token, {
      method: "PUT",
      body: big,
    });
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({ path: "/workspace/data/big.bin", bytes: big.byteLength, created: true });
    expect(readFileSync(join(workspace, "data/big.bin")).equals(Buffer.from(big))).toBe(true);
    const got = await api.call(`/v1/sandboxes/${sandbox.id}/files/workspace/data/big.bin`, sandbox.token);
    expect(
      got.status,
      await got
        .clone()
        .text()
        .then((t) => t.slice(0, 300)),
    ).toBe(200);
    expect(got.headers.get("content-length")).toBe(String(big.byteLength));
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(big))).toBe(true);

    const tar = await api.call(`/v1/sandboxes/${sandbox.id}/export.tar`, sandbox.token);
    expect(tar.status).toBe(200);
    const scratch = await mkdtemp(join(tmpdir(), "tether-export-"));
    try {
      writeFileSync(join(scratch, "x.tar"), Buffer.from(await tar.arrayBuffer()));
      const names = execFileSync("tar", ["-tf", join(scratch, "x.tar")], { encoding: "utf8" }).split("\n");
      expect(names).toEqual(
        expect.arrayContaining(["workspace/hello.txt", "workspace/notes.md", "workspace/data/big.bin"]),
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }

    const removed = await api.call(`/v1/sandboxes/${sandbox.id}/files/workspace/notes.md`, sandbox.token, {
      method: "DELETE",
    });
    expect(removed.status).toBe(204);
    expect(existsSync(join(workspace, "notes.md"))).toBe(false);
    const missing = await api.call(`/v1/sandboxes/${sandbox.id}/files/workspace/notes.md`, sandbox.token);
    expect(missing.status).toBe(404);
    const outside = await api.call(`/v1/sandboxes/${sandbox.id}/files/etc/passwd`, sandbox.token);
    expect(outside.status).toBe(400);
    expect(await errorMessage(outside)).toContain("outside /workspace");

    const gone = await api.call(`/v1/sandboxes/${sandbox.id}`, sandbox.token, { method: "DELETE" });
    expect(gone.status).toBe(204);
    expect(existsSync(join(main.root, sandbox.id))).toBe(false);
    expect((await api.call(`/v1/sandboxes/${sandbox.id}`, api.edge().adminToken)).status).toBe(404);
  });

  test("the admin views show the backend, the serving gateway and instance, the workspace size, and each gateway's executors", async () => {
    const sandbox = await api.create({ backend: gatewayBackend, files: { "a.txt": "12345" } });
    const details = (await (await admin(`/admin/sandboxes/${sandbox.id}`)).json()) as Record<string, unknown>;
    expect(details.backend).toEqual(gatewayBackend);
    expect(details.shell).toBeNull();
    expect(details.gateway).toEqual({
      gateway_id: main.gateway.gatewayId,
      instance: "crm-a",
      connected: true,
      workspace_bytes: 5,
      workspace_error: null,
    });
    const tunnel = (await (await admin("/admin/tunnels/crm")).json()) as {
      gateways: { id: string; executors: unknown[] }[];
      traces: { server: string; tokenId: string | null }[];
    };
    const gateway = tunnel.gateways.find((entry) => entry.id === main.gateway.gatewayId);
    expect(gateway?.executors).toEqual([main.executor.announcement]);
    expect(
      tunnel.traces.some((trace) => trace.server === "executor:main" && trace.tokenId === `sandbox:${sandbox.id}`),
    ).toBe(true);
    // Agents never reach an executor directly: it is not an MCP server of the tunnel.
    const agent = await api.call(`/t/crm/${encodeURIComponent("executor:main")}/mcp`, crm.agentToken, json({}));
    expect(agent.status).toBe(404);
    expect(main.executor.requests.some((request) => request.method === "POST" && request.path === "/")).toBe(false);
  });

  test("expiry deletes the executor's workspace with the sandbox", async () => {
    const sandbox = await api.create({ backend: gatewayBackend, ttl_seconds: 1, files: { "a.txt": "soon gone" } });
    expect(existsSync(join(main.root, sandbox.id, "workspace", "a.txt"))).toBe(true);
    await eventually(async () => !existsSync(join(main.root, sandbox.id)), 30_000);
    expect((await api.call(`/v1/sandboxes/${sandbox.id}`, api.edge().adminToken)).status).toBe(404);
  });
});

describe("creating a gateway sandbox", () => {
  test("refuses edge-only options, saying which options a gateway sandbox does not take", async () => {
    const res = await api.call(
      "/v1/sandboxes",
      api.edge().adminToken,
      json({ backend: gatewayBackend, quota_bytes: 4096 }),
    );
    expect(res.status).toBe(400);
    expect(await errorMessage(res)).toContain("a gateway sandbox does not take quota_bytes or network");
    const network = await api.call(
      "/v1/sandboxes",
      api.edge().adminToken,
      json({ backend: gatewayBackend, network: { allow: ["example.com"] } }),
    );
    expect(network.status).toBe(400);
  });

  test("on a tunnel that does not exist: 404 naming it, and nothing left behind", async () => {
    const res = await api.call(
      "/v1/sandboxes",
      api.edge().adminToken,
      json({ id: "on-nowhere", backend: { type: "gateway", tunnel: "nowhere", executor: "main" } }),
    );
    expect(res.status).toBe(404);
    expect(await errorMessage(res)).toContain('tunnel "nowhere" does not exist');
    expect((await admin("/v1/sandboxes/on-nowhere")).status).toBe(404);
  });

  test("with no gateway serving the executor: 503 with Retry-After, and nothing left behind", async () => {
    const lonely = await createTunnel(api.edge(), "lonely");
    expect(lonely.name).toBe("lonely");
    const res = await api.call(
      "/v1/sandboxes",
      api.edge().adminToken,
      json({
        id: "lonely-1",
        backend: { type: "gateway", tunnel: "lonely", executor: "main" },
        files: { "a.txt": "x" },
      }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await errorMessage(res)).toContain(
      'the gateway serving executor "main" on tunnel "lonely" is not connected',
    );
    expect((await admin("/v1/sandboxes/lonely-1")).status).toBe(404);
    const listed = (await (await admin("/admin/sandboxes")).json()) as { sandboxes: { id: string }[] };
    expect(listed.sandboxes.map((entry) => entry.id)).not.toContain("lonely-1");
  });
});
