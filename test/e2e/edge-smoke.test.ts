import { afterAll, beforeAll, expect, test } from "vitest";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";

let edge: RunningEdge;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => {
  await edge?.close();
});

test("the edge answers its trivial route", async () => {
  const res = await fetch(`${edge.url}/ping`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("pong");
});

test("unknown routes get a JSON 404", async () => {
  const res = await fetch(`${edge.url}/nowhere`);
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: { code: "not_found", message: "no such route" } });
});
