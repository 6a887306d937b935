/**
 * `tether environment` as operators run it (a real process) against the real edge, with Anthropic's
 * API played by the local stand-in: secrets only from the environment or stdin, never echoed.
 */
import { afterEach, describe, expect, test } from "vitest";
import { ROOT } from "../helpers/edge.ts";
import { NODE, spawnProcess, stopAll } from "../helpers/processes.ts";
import { within } from "../helpers/stdio-fixtures.ts";
import { environmentHarness, eventually, leakedPiece, newWebhookSecret } from "./environment-helpers.ts";

const h = environmentHarness();
const MAIN = `${ROOT}src/cli/main.ts`;

afterEach(async () => {
  await stopAll();
});

async function tether(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const proc = spawnProcess("tether", NODE, [MAIN, "environment", ...args], {
    env: {
      TETHER_EDGE: h.edge().url,
      TETHER_ADMIN_TOKEN: h.edge().adminToken,
      TETHER_ENVIRONMENT_KEY: "",
      TETHER_WEBHOOK_SECRET: "",
      ...options.env,
    },
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  const exit = await within(proc.exited, 30_000, `tether environment ${args.join(" ")}`);
  return { code: exit.code, output: proc.output() };
}

/** The JSON document a command printed (stdout), without the stderr hint line. */
function printed(output: string): Record<string, unknown> {
  const start = output.indexOf("{");
  const end = output.lastIndexOf("}");
  return JSON.parse(output.slice(start, end + 1)) as Record<string, unknown>;
}

describe("tether environment against the real edge and the local Anthropic API stand-in", () => {
  test("add (key from the environment, webhook secret from stdin) prints the webhook URL; show, list, update, remove", async () => {
    const api = h.api().createEnvironment();
    const secret = newWebhookSecret();
    const added = await tether(
      [
        "add",
        "cli-env",
        "--environment-id",
        api.id,
        "--mode",
        "webhook",
        "--api-base-url",
        h.api().url,
        "--webhook-secret-stdin",
      ],
      { env: { TETHER_ENVIRONMENT_KEY: api.key }, input: `${secret}\n` },
    );
    expect(added.code, added.output).toBe(0);
    expect(added.output).toContain(
      `Register this webhook URL in the Claude Console: ${h.edge().url}/managed-agents/cli-env/webhook`,
    );
    expect(printed(added.output)).toMatchObject({ name: "cli-env", mode: "webhook", webhook_secret_set: true });

    const shown = await tether(["show", "cli-env"]);
    expect([shown.code, printed(shown.output)]).toEqual([
      0,
      expect.objectContaining({ name: "cli-env", sessions: [] }),
    ]);
    const listed = await tether(["list"]);
    expect(listed.output).toContain('"name": "cli-env"');

    const updated = await tether(["update", "cli-env", "--mode", "poll", "--max-sessions", "3"]);
    expect([updated.code, printed(updated.output)]).toEqual([
      0,
      expect.objectContaining({ mode: "poll", max_sessions: 3 }),
    ]);

    // A key rotated from stdin reaches the environment: queued work gets claimed with it.
    const rotated = h.api().rotateEnvironmentKey(api.id);
    const rotate = await tether(["update", "cli-env", "--rotate-key", "--key-stdin"], { input: `${rotated}\n` });
    expect(rotate.code, rotate.output).toBe(0);
    const session = h.api().createSession(api.id);
    await eventually(async () => h.api().work(session.workId).acknowledgedAt !== null);
    const work = await tether(["show", "cli-env", "--work", session.workId]);
    expect(printed(work.output)).toMatchObject({ workId: session.workId });

    const removed = await tether(["remove", "cli-env"]);
    expect([removed.code, printed(removed.output)]).toEqual([0, expect.objectContaining({ deleted: true })]);
    const gone = await tether(["show", "cli-env"]);
    expect([gone.code, gone.output]).toEqual([1, expect.stringContaining("404")]);

    const everything = [added, shown, listed, updated, rotate, work, removed].map((r) => r.output).join("\n");
    expect(leakedPiece(`${everything}\n${h.transcript()}`, [api.key, rotated, secret])).toBeNull();
  });

  test("secrets in flags are refused; missing ones and bad values are clear errors; nothing is created", async () => {
    const api = h.api().createEnvironment();
    const base = ["add", "cli-bad", "--environment-id", api.id, "--mode", "poll", "--api-base-url", h.api().url];
    const asFlag = await tether([...base, "--key", api.key]);
    expect([asFlag.code, asFlag.output]).toEqual([2, expect.stringContaining("never taken from flags")]);
    expect(asFlag.output).not.toContain(api.key);
    const secretFlag = await tether([...base, "--webhook-secret", newWebhookSecret()]);
    expect([secretFlag.code, secretFlag.output]).toEqual([2, expect.stringContaining("never taken from flags")]);
    const missing = await tether(base);
    expect([missing.code, missing.output]).toEqual([2, expect.stringContaining("TETHER_ENVIRONMENT_KEY")]);
    const emptyStdin = await tether([...base, "--key-stdin"], { input: "" });
    expect([emptyStdin.code, emptyStdin.output]).toEqual([2, expect.stringContaining("environment key is required")]);
    const badNumber = await tether([...base, "--max-sessions", "many"], { env: { TETHER_ENVIRONMENT_KEY: api.key } });
    expect([badNumber.code, badNumber.output]).toEqual([2, expect.stringContaining("--max-sessions must be")]);
    const refused = await tether([...base, "--max-sessions", "0"], { env: { TETHER_ENVIRONMENT_KEY: api.key } });
    expect([refused.code, refused.output]).toEqual([1, expect.stringMatching(/400 invalid environment: max_sessions/)]);
    const noRotation = await tether(["update", "cli-bad", "--rotate-key"]);
    expect([noRotation.code, noRotation.output]).toEqual([2, expect.stringContaining("--rotate-key needs")]);
    expect((await h.admin("GET", "/admin/environments/cli-bad")).status).toBe(404);
  });
});
