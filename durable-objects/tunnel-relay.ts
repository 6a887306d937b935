import { DurableObject } from "cloudflare:workers";
import type { Env } from "../workers/env.ts";

export class TunnelRelay extends DurableObject<Env> {
  writerLog = { push: (m: string) => { const l = (this.ctx.storage.kv.get("log") as string[] | undefined) ?? []; l.push(m); this.ctx.storage.kv.put("log", l); } };
  async waitWithLiveness(liveness: ReadableStream | null): Promise<string> {
    this.writerLog.push("start");
    if (liveness) {
    const reader = liveness.getReader();
    reader.read().then(
      (r) => this.writerLog.push(`liveness read done=${r.done}`),
      (e) => this.writerLog.push(`liveness error ${String(e)}`),
    );
    }
    setTimeout(() => this.writerLog.push("timer fired"), 500);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      this.writerLog.push("dobody done");
    } finally { this.writerLog.push("finally"); }
    return "x";
  }
  override async fetch(req: Request): Promise<Response> {
    await this.waitWithLiveness(null);
    return new Response("y");
  }
  log(): unknown {
    return this.ctx.storage.kv.get("log");
  }
}
