/**
 * What an operator changes on a tunnel from its page: settings, ending an MCP session, deleting
 * the tunnel (the name typed again as confirmation). Each goes through the relay's RPCs, as the
 * admin API does, is recorded as an operator action, and redirects back with a notice.
 */
import { Hono } from "hono";
import { z } from "zod";
import { registry } from "../../../durable-objects/registry.ts";
import { recordOperatorAction } from "../../../src/audit/operator-action.ts";
import { unwrap } from "../../../src/errors/rpc-result.ts";
import type { ConsoleEnv } from "../../env.ts";
import { namedTunnelStub } from "../tunnels.ts";
import { confirmDeletion, formBody } from "./form-body.ts";
import { redirectWithNotice } from "./render.tsx";
import { endSession } from "./tunnel-data.ts";
import { SettingsFormSchema, settingsFromForm } from "./tunnel-settings-form.tsx";

export const tunnelActionRoutes = new Hono<ConsoleEnv>();

const EndSessionFormSchema = z.object({ server: z.string().min(1).max(200), id: z.string().min(1).max(200) });

tunnelActionRoutes.post("/tunnels/:name/settings", async (c) => {
  const name = c.req.param("name");
  const patch = settingsFromForm(await formBody(c, SettingsFormSchema, "settings"));
  patch.allowedOrigins ??= [];
  const settings = unwrap(await namedTunnelStub(c.env, name).updateSettings(patch));
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.settings_changed",
    tunnel: name,
    detail: { changed: patch, settings },
  });
  return redirectWithNotice(c, `/console/tunnels/${name}`, "settings-saved");
});

tunnelActionRoutes.post("/tunnels/:name/sessions/end", async (c) => {
  const name = c.req.param("name");
  const { server, id } = await formBody(c, EndSessionFormSchema, "session");
  const ended = await endSession(c.env, name, server, id);
  await recordOperatorAction(c.env, c.get("operator"), {
    action: "tunnel.session_ended",
    tunnel: name,
    target: `${server}/${id}`,
    detail: { upstream: ended.upstream },
  });
  return redirectWithNotice(c, `/console/tunnels/${name}`, "session-ended");
});

tunnelActionRoutes.post("/tunnels/:name/delete", async (c) => {
  const name = c.req.param("name");
  await confirmDeletion(c, { kind: "tunnel", key: "name", expected: name });
  unwrap(await namedTunnelStub(c.env, name).destroy());
  await registry(c.env).remove("tunnel", name);
  await recordOperatorAction(c.env, c.get("operator"), { action: "tunnel.deleted", tunnel: name });
  return redirectWithNotice(c, "/console/tunnels", "tunnel-deleted");
});
