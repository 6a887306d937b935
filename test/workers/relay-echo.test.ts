/**
 * The relay's admin-only echo socket (GET /admin/tunnels/:name/echo): what it refuses, and that
 * every message comes back unchanged until the socket closes.
 */
import { expect, test } from "vitest";
import { ADMIN_TOKEN, edgeFetch, uniqueName, warmUpEdge, within } from "./tunnel-fixtures.ts";

warmUpEdge();

const upgrade = { upgrade: "websocket" };

async function openEcho(name = uniqueName("echo")): Promise<WebSocket> {
  const res = await edgeFetch(`/admin/tunnels/${name}/echo`, {
    headers: { ...upgrade, authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error("no WebSocket in the 101 response");
  ws.binaryType = "arraybuffer";
  ws.accept();
  return ws;
}

function nextMessage(ws: WebSocket): Promise<string | ArrayBuffer> {
  return within(
    new Promise((resolve) => ws.addEventListener("message", (event) => resolve(event.data), { once: true })),
    "an echoed message",
  );
}

test("binary and text messages come back unchanged, in order", async () => {
  const ws = await openEcho();
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  let reply = nextMessage(ws);
  ws.send(bytes);
  expect(new Uint8Array((await reply) as ArrayBuffer)).toEqual(bytes);
  reply = nextMessage(ws);
  ws.send("ping-like text");
  expect(await reply).toBe("ping-like text");
  const closed = within(
    new Promise<number>((resolve) => ws.addEventListener("close", (event) => resolve(event.code))),
    "the echo socket to close",
  );
  ws.close(1000, "done");
  expect(await closed).toBe(1000);
});

test("refused without the admin token, with another token, or without an upgrade", async () => {
  const name = uniqueName("echo");
  const missing = await edgeFetch(`/admin/tunnels/${name}/echo`, { headers: upgrade });
  expect(missing.status).toBe(401);
  expect(missing.webSocket).toBeNull();
  const wrong = await edgeFetch(`/admin/tunnels/${name}/echo`, {
    headers: { ...upgrade, authorization: "Bearer not-the-admin-token" },
  });
  expect(wrong.status).toBe(401);
  const plain = await edgeFetch(`/admin/tunnels/${name}/echo`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(plain.status).toBe(400);
  expect(((await plain.json()) as { error: { message: string } }).error.message).toMatch(/WebSocket upgrade/);
});

test("a tunnel name that cannot exist answers 404", async () => {
  const res = await edgeFetch("/admin/tunnels/Not_A_Name/echo", {
    headers: { ...upgrade, authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(404);
});
