/**
 * The environments admin API end to end (edge in Miniflare, Anthropic's API played by the local
 * stand-in): create, list, show, update, delete, every refused input, and no secret in any answer
 * or log line.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";
import { environmentHarness, eventually, leakedPiece, newWebhookSecret } from "./environment-helpers.ts";

const h = environmentHarness();
/** Every secret handed to the edge in this file: none may come back out. */
const secrets: string[] = [];
const key = () => {
  const value = `sk-ant-oat01-${randomBytes(24).toString("base64url")}`;
  secrets.push(value);
  return value;
};
const webhookSecret = () => {
  const value = newWebhookSecret();
  secrets.push(value);
  return value;
};

afterAll(() => {
  // Runs before the edge closes (hooks run in reverse), over everything said in this file.
  expect(leakedPiece(h.transcript(), secrets)).toBeNull();
});

interface View {
  name: string;
  mode: string;
  max_sessions: number;
  webhook_url?: string;
  webhook_secret_set: boolean;
  health: { unhealthy: boolean; last_poll_at: string | null; last_api_error: string | null };
  sessions?: unknown[];
}

function standInEnvironment() {
  return h.api().createEnvironment();
}

describe("environments admin API against the local Anthropic API stand-in", () => {
  test("create (webhook) → 201 with webhook_url; list, show, update, delete; a second create → 409", async () => {
    const api = standInEnvironment();
    secrets.push(api.key);
    const body = {
      name: "crud-webhook",
      environment_id: api.id,
      environment_key: api.key,
      api_base_url: h.api().url,
      mode: "webhook",
      webhook_secret: webhookSecret(),
      max_sessions: 3,
      sandbox: { ttl_seconds: 600 },
    };
    const created = await h.admin("POST", "/admin/environments", body);
    expect(created.status).toBe(201);
    const view = created.body as View;
    expect(view).toMatchObject({
      name: "crud-webhook",
      environment_id: api.id,
      mode: "webhook",
      max_sessions: 3,
      backend: { type: "edge" },
      sandbox: { ttl_seconds: 600 },
      webhook_secret_set: true,
      webhook_url: `${h.edge().url}/managed-agents/crud-webhook/webhook`,
      live_sessions: 0,
    });
    expect(created.text).not.toContain("environment_key");

    const again = await h.admin("POST", "/admin/environments", { ...body, mode: "poll" });
    expect(again.status).toBe(409);
    expect(again.text).toContain("already exists");
    // The refused create changed nothing: still webhook mode with 3 sessions.
    expect((await h.admin("GET", "/admin/environments/crud-webhook")).body).toMatchObject({ mode: "webhook" });

    const list = await h.admin("GET", "/admin/environments");
    expect(list.status).toBe(200);
    expect((list.body as { environments: View[] }).environments.map((e) => e.name)).toContain("crud-webhook");

    // Creating armed a first drain: the health shows that poll, and the detail lists no session.
    await eventually(async () => {
      const shown = (await h.admin("GET", "/admin/environments/crud-webhook")).body as View;
      return shown.health.last_poll_at !== null;
    });
    const shown = await h.admin("GET", "/admin/environments/crud-webhook");
    expect(shown.body).toMatchObject({ sessions: [], health: { unhealthy: false, last_api_error: null } });

    const patched = await h.admin("PATCH", "/admin/environments/crud-webhook", { max_sessions: 5, mode: "poll" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ max_sessions: 5, mode: "poll", webhook_secret_set: true });
    expect((patched.body as View).webhook_url).toBeUndefined();

    const deleted = await h.admin("DELETE", "/admin/environments/crud-webhook");
    expect(deleted).toMatchObject({ status: 200, body: { name: "crud-webhook", deleted: true, stopped_sessions: 0 } });
    expect((await h.admin("GET", "/admin/environments/crud-webhook")).status).toBe(404);
    expect((await h.admin("PATCH", "/admin/environments/crud-webhook", { max_sessions: 1 })).status).toBe(404);
    expect((await h.admin("DELETE", "/admin/environments/crud-webhook")).status).toBe(404);
    const after = (await h.admin("GET", "/admin/environments")).body as { environments: View[] };
    expect(after.environments.map((e) => e.name)).not.toContain("crud-webhook");
  });

  test("every bad create is a 400 naming the field, and nothing is stored", async () => {
    const api = standInEnvironment();
    secrets.push(api.key);
    const good = {
      name: "bad-inputs",
      environment_id: api.id,
      environment_key: key(),
      api_base_url: h.api().url,
      mode: "poll",
    };
    const { name: _name, ...withoutName } = good;
    const { environment_key: _key, ...withoutKey } = good;
    const cases: Array<[unknown, RegExp]> = [
      [withoutName, /name: required/],
      [{ ...good, name: "Bad Name" }, /name: name must be/],
      [withoutKey, /environment_key: required/],
      [{ ...good, environment_key: "short" }, /environment_key: environment_key is too short/],
      [{ ...good, environment_key: "has a space in it" }, /environment_key: environment_key must be printable/],
      [{ ...good, mode: "push" }, /mode: /],
      [{ ...good, mode: "webhook" }, /webhook_secret: webhook mode needs webhook_secret/],
      [{ ...good, webhook_secret: "not-a-secret" }, /webhook_secret: webhook_secret must look like whsec_/],
      [
        { ...good, webhook_secret: `whsec_${randomBytes(16).toString("base64")}` },
        /webhook_secret: webhook secret must decode to 24–64 bytes/,
      ],
      [{ ...good, api_base_url: "ftp://example.com" }, /api_base_url: /],
      [{ ...good, max_sessions: 0 }, /max_sessions: too small/],
      [{ ...good, max_sessions: 100_000 }, /max_sessions: too big/],
      [{ ...good, sandbox: { ttl_seconds: -1 } }, /sandbox.ttl_seconds: too small/],
      [{ ...good, surprise: true }, /unrecognized key/],
      [
        { ...good, backend: { type: "gateway", tunnel: "corp", executor: "build" } },
        /backend: sandboxes on a gateway executor are not available yet/,
      ],
      [{ ...good, backend: { type: "cloud" } }, /backend/],
      ["{not json", /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const answer = await h.admin("POST", "/admin/environments", body);
      expect([answer.status, answer.text], JSON.stringify(body)).toEqual([400, expect.stringMatching(message)]);
    }
    const tooBig = await h.isolated(
      "POST",
      "/admin/environments",
      { authorization: `Bearer ${h.edge().adminToken}`, "content-type": "application/json" },
      JSON.stringify({ ...good, sandbox: { env: { A: "x".repeat(70_000) } } }),
    );
    expect(tooBig.status).toBe(413);

    expect((await h.admin("GET", "/admin/environments/bad-inputs")).status).toBe(404);
    const list = (await h.admin("GET", "/admin/environments")).body as { environments: View[] };
    expect(list.environments.map((e) => e.name)).not.toContain("bad-inputs");
    // Nothing polled the API for an environment that was never stored.
    expect(h.polls(api.id)).toBe(0);
  });

  test("every bad update is a 400 (or 404 for an unknown name) and changes nothing", async () => {
    const api = standInEnvironment();
    secrets.push(api.key);
    const created = await h.admin("POST", "/admin/environments", {
      name: "bad-updates",
      environment_id: api.id,
      environment_key: api.key,
      api_base_url: h.api().url,
      mode: "poll",
      max_sessions: 4,
    });
    expect(created.status).toBe(201);
    const cases: Array<[unknown, RegExp]> = [
      [{ max_sessions: 0 }, /max_sessions: too small/],
      [{ mode: "webhook" }, /webhook_secret: webhook mode needs webhook_secret \(none is stored\)/],
      [{ environment_key: "x" }, /environment_key: environment_key is too short/],
      [{ webhook_secret: "whsec_!!" }, /webhook_secret: /],
      [{ name: "renamed" }, /unrecognized key/],
      [{ environment_id: "env_other" }, /unrecognized key/],
    ];
    for (const [body, message] of cases) {
      const answer = await h.admin("PATCH", "/admin/environments/bad-updates", body);
      expect([answer.status, answer.text], JSON.stringify(body)).toEqual([400, expect.stringMatching(message)]);
    }
    expect((await h.admin("GET", "/admin/environments/bad-updates")).body).toMatchObject({
      mode: "poll",
      max_sessions: 4,
      webhook_secret_set: false,
    });
    expect((await h.admin("PATCH", "/admin/environments/never-made", { max_sessions: 2 })).status).toBe(404);
    expect((await h.admin("GET", "/admin/environments/Not%20A%20Name")).status).toBe(404);
    expect((await h.admin("GET", "/admin/environments/bad-updates/sessions/work_nope")).status).toBe(404);
    expect((await h.admin("DELETE", "/admin/environments/bad-updates")).status).toBe(200);
  });

  test("every route needs the admin token: none or a wrong one → 401", async () => {
    const routes: Array<[string, string, unknown?]> = [
      ["POST", "/admin/environments", { name: "x" }],
      ["GET", "/admin/environments"],
      ["GET", "/admin/environments/x"],
      ["GET", "/admin/environments/x/sessions/w"],
      ["PATCH", "/admin/environments/x", { max_sessions: 1 }],
      ["DELETE", "/admin/environments/x"],
    ];
    for (const [method, path, body] of routes) {
      for (const token of [null, "not-the-admin-token"]) {
        const answer = await h.admin(method, path, body, token);
        expect([method, path, answer.status]).toEqual([method, path, 401]);
      }
    }
  });

  test("rotating the key and the webhook secret: accepted, never shown", async () => {
    const api = standInEnvironment();
    secrets.push(api.key);
    const first = webhookSecret();
    expect(
      (
        await h.admin("POST", "/admin/environments", {
          name: "rotations",
          environment_id: api.id,
          environment_key: api.key,
          api_base_url: h.api().url,
          mode: "webhook",
          webhook_secret: first,
        })
      ).status,
    ).toBe(201);
    const rotated = h.api().rotateEnvironmentKey(api.id);
    secrets.push(rotated);
    const patched = await h.admin("PATCH", "/admin/environments/rotations", {
      environment_key: rotated,
      webhook_secret: webhookSecret(),
    });
    expect(patched.status).toBe(200);
    expect((await h.admin("GET", "/admin/environments/rotations")).status).toBe(200);
    expect((await h.admin("GET", "/admin/environments")).status).toBe(200);
    expect((await h.admin("DELETE", "/admin/environments/rotations")).status).toBe(200);
    expect(leakedPiece(h.transcript(), secrets)).toBeNull();
    // The scan itself finds a piece of a secret where there is one.
    expect(leakedPiece(`token=${rotated.slice(0, 21)}`, secrets)).not.toBeNull();
    expect(leakedPiece(`…${first.slice(12, 20)}…`, secrets)).not.toBeNull();
  });
});
