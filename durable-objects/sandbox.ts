import { DurableObject } from "cloudflare:workers";
import { TetherError } from "../src/errors/tether-error.ts";
import type { Env } from "../workers/env.ts";

export class Sandbox extends DurableObject<Env> {
  boom(): string {
    throw new TetherError("not_found", "no such sandbox", { headers: { a: "b" } });
  }
  resp(): Response {
    return new Response("hi", { status: 418, headers: { "x-a": "1" } });
  }
  obj(): { body: ReadableStream<Uint8Array>; n: number } {
    return { body: new Response("streamed").body!, n: 3 };
  }
}
