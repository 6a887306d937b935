/**
 * The stdio adapter serving the real server-filesystem, confined to a temporary directory.
 */
import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FILESYSTEM, type Fixture, isAlive, NODE, startFixture, within } from "../helpers/stdio-fixtures.ts";

function text(result: unknown): string {
  const parsed = CallToolResultSchema.parse(result);
  return parsed.content.map((block) => (block.type === "text" ? block.text : "")).join("");
}

describe("stdio adapter: server-filesystem", { timeout: 60_000 }, () => {
  let dir: string;
  let fx: Fixture;
  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), "tether-fs-")));
    await writeFile(join(dir, "existing.txt"), "already here\n");
    fx = await startFixture({ name: "files", command: NODE, args: [FILESYSTEM, dir] });
  });
  afterAll(async () => {
    await fx.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists, writes and reads files in the allowed directory", async () => {
    const { client } = await fx.connect();
    const { tools } = await within(client.listTools(), 10_000, "tools/list");
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(["read_text_file", "write_file", "list_directory"]),
    );

    const read = await within(
      client.callTool({ name: "read_text_file", arguments: { path: join(dir, "existing.txt") } }),
      10_000,
      "read_text_file",
    );
    expect(text(read)).toBe("already here\n");

    await within(
      client.callTool({
        name: "write_file",
        arguments: { path: join(dir, "new.txt"), content: "written through Tether" },
      }),
      10_000,
      "write_file",
    );
    expect(await readFile(join(dir, "new.txt"), "utf8")).toBe("written through Tether");

    const listing = await within(
      client.callTool({ name: "list_directory", arguments: { path: dir } }),
      10_000,
      "list_directory",
    );
    expect(text(listing).split("\n").sort()).toEqual(["[FILE] existing.txt", "[FILE] new.txt"]);
  });

  it("relays the server's refusal of a path outside the allowed directory as a tool error", async () => {
    const { client } = await fx.connect();
    const outside = await within(
      client.callTool({ name: "read_text_file", arguments: { path: "/etc/hostname" } }),
      10_000,
      "read outside",
    );
    expect(outside.isError).toBe(true);
    expect(text(outside)).toMatch(/outside allowed directories|Access denied/);
  });

  it("stops the filesystem child when the upstream closes", async () => {
    await fx.connect();
    const pids = fx.pids();
    expect(pids.length).toBeGreaterThan(0);
    await within(fx.upstream.close(), 10_000, "close");
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
