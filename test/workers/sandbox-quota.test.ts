import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, test } from "vitest";
import { bash, call, createSandbox, sandboxStub, uniqueId, warmUp } from "./sandbox-helpers.ts";

// The quota counts every stored byte: an agent creating empty files with long names (no content
// at all) is stopped at the quota, and the database did not grow past it.
beforeAll(warmUp, 60_000);

const QUOTA = 1024 * 1024;

function databaseSize(id: string): Promise<number> {
  return runInDurableObject(sandboxStub(id), (_instance, state) => state.storage.sql.databaseSize);
}

describe("quota counts every stored byte", () => {
  test("a touch loop of a million empty files with long names stops at the quota with a no-space error", async () => {
    const sandbox = await createSandbox({ id: uniqueId("touch"), quota_bytes: QUOTA });
    await bash(sandbox, "true");
    const before = await databaseSize(sandbox.id);
    const prefix = "f".repeat(240);
    const loop = await bash(
      sandbox,
      `for i in $(seq 1 1000000); do touch ${prefix}_$i || { echo "stopped at $i"; break; }; done`,
    );
    expect(loop.isError).toBe(false);
    expect(loop.text).toMatch(/ENOSPC: sandbox storage quota exceeded \(1 MiB; /);
    const stoppedAt = Number(/stopped at (\d+)/.exec(loop.text)?.[1]);
    expect(stoppedAt).toBeGreaterThan(100);
    expect(stoppedAt).toBeLessThan(1_000_000);
    const after = await databaseSize(sandbox.id);
    expect(after - before).toBeLessThanOrEqual(QUOTA);

    const info = (await (await call(`/v1/sandboxes/${sandbox.id}`, sandbox.token)).json()) as {
      size_bytes: number;
      stored_bytes: number;
      file_count: number;
    };
    expect(info).toMatchObject({ size_bytes: 0, file_count: stoppedAt - 1 });
    expect(info.stored_bytes).toBeLessThanOrEqual(QUOTA);
    expect(info.stored_bytes).toBeGreaterThan(QUOTA - 2048);

    // The sandbox still works: it lists what was made, deletes it, and has room again.
    expect((await bash(sandbox, "ls | wc -l")).text).toBe(`${stoppedAt - 1}\n`);
    expect((await bash(sandbox, `rm ${prefix}_* && touch again && ls`)).text).toBe("again\n");
  }, 120_000);

  test("the shell state counts too: a large exported variable leaves less room for files", async () => {
    const sandbox = await createSandbox({ id: uniqueId("state"), quota_bytes: QUOTA });
    const text = "x".repeat(600 * 1024);
    const put = (name: string) =>
      call(`/v1/sandboxes/${sandbox.id}/files/workspace/${name}`, sandbox.token, { method: "PUT", body: text });
    expect((await put("a.txt")).status).toBe(201);
    expect((await bash(sandbox, 'export BIG="$(cat a.txt)"; rm a.txt; printf %s "$BIG" | wc -c')).text).toBe(
      `${text.length}\n`,
    );
    const refused = await put("b.txt");
    expect(refused.status).toBe(507);
    expect(await refused.text()).toContain("quota");
    // Dropping the variable gives the room back.
    expect((await bash(sandbox, "unset BIG; echo done")).text).toBe("done\n");
    expect((await put("b.txt")).status).toBe(201);
  });

  test("names over 255 bytes and paths over 4,095 bytes are refused with ENAMETOOLONG; nothing is created", async () => {
    const sandbox = await createSandbox({ id: uniqueId("names") });
    const long = "n".repeat(256);
    const touched = await bash(sandbox, `touch ${long}; echo "status $?"; ls | wc -l`);
    expect(touched.text).toMatch(
      /^status 1\n0\ntouch: cannot touch 'n+': ENAMETOOLONG: file name longer than 255 bytes/,
    );
    expect((await bash(sandbox, `touch ${"n".repeat(255)} && ls | wc -l`)).text).toBe("1\n");
    const deep = Array.from({ length: 17 }, () => "d".repeat(250)).join("/");
    const made = await bash(sandbox, `mkdir -p ${deep}; echo "status $?"`);
    expect(made.text).toContain("ENAMETOOLONG");
    expect(made.text).toContain("status 1");
    const write = await runWrite(sandbox, `/workspace/${"w".repeat(300)}.txt`);
    expect(write).toMatch(/ENAMETOOLONG/);
    const put = await call(`/v1/sandboxes/${sandbox.id}/files/workspace/${"p".repeat(256)}`, sandbox.token, {
      method: "PUT",
      body: "x",
    });
    expect(put.status).toBe(400);
    expect(await put.text()).toContain("ENAMETOOLONG");
  });
});

async function runWrite(sandbox: Awaited<ReturnType<typeof createSandbox>>, path: string): Promise<string> {
  const res = await call(`/v1/sandboxes/${sandbox.id}/tool-calls`, sandbox.token, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "tool_use", id: "tu_w", name: "write", input: { file_path: path, content: "x" } }),
  });
  return JSON.stringify(await res.json());
}
