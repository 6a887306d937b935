/**
 * What an operator changes on a tunnel from its page: settings, ending an MCP session, deleting
 * the tunnel (the name typed again as confirmation). Each goes through the relay's RPCs, as the
 * admin API does, is recorded as an operator action, and redirects back with a notice.
 */
import { Hono } from "hono";
import { z } from "zod";
import { registry } from "../../../durable-objects/registry.ts";
import { unwrap } from "../../../src/errors/rpc-result.ts";
import { TetherError } from "../../../src/errors/tether-error.ts";
import type { ConsoleEnv } from "../../env.ts";
import { formBody } from "./form-body.ts";
import { recordAction } from "./operator-action.ts";
import { redirectWithNotice } from "./render.tsx";
import { endSession, relayOf } from "./tunnel-data.ts";
import { SettingsFormSchema, settingsFromForm } from "./tunnel-settings-form.tsx";

export const tunnelActionRoutes = new Hono<ConsoleEnv>();

const EndSessionFormSchema = z.object({ server: z.string().min(1).max(200), id: z.string().min(1).max(200) });
const DeleteFormSchema = z.object({ confirm: z.string().max(100) });

tunnelActionRoutes.post("/tunnels/:name/settings", async (c) => {
  const name = c.req.param("name");
  const patch = settingsFromForm(await formBody(c, SettingsFormSchema, "settings"));
  patch.allowedOrigins ??= [];
  const settings = unwrap(await relayOf(c.env, name).updateSettings(patch));
  await recordAction(c, {
    action: "tunnel.settings_changed",
    target: name,
    detail: { allowedOrigins: settings.allowedOrigins.join(" "), sseKeepAliveMs: String(settings.sseKeepAliveMs) },
  });
  return redirectWithNotice(c, `/console/tunnels/${name}`, "settings-saved");
});

tunnelActionRoutes.post("/tunnels/:name/sessions/end", async (c) => {
  const name = c.req.param("name");
  const { server, id } = await formBody(c, EndSessionFormSchema, "session");
  await endSession(c.env, name, server, id);
  await recordAction(c, { action: "tunnel.session_ended", target: name, detail: { server, session: id } });
  return redirectWithNotice(c, `/console/tunnels/${name}`, "session-ended");
});

tunnelActionRoutes.post("/tunnels/:name/delete", async (c) => {
  const name = c.req.param("name");
  const { confirm } = await formBody(c, DeleteFormSchema, "delete request");
  if (confirm.trim() !== name) {
    throw new TetherError("bad_request", `to delete the tunnel, type its name "${name}" in the confirmation field`);
  }
  unwrap(await relayOf(c.env, name).destroy());
  await registry(c.env).remove("tunnel", name);
  await recordAction(c, { action: "tunnel.deleted", target: name });
  return redirectWithNotice(c, "/console/tunnels", "tunnel-deleted");
});
