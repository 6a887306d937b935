/**
 * A test-only Worker run beside the edge (test/helpers/edge.ts `workers`), bound to the edge's own
 * SessionRunner objects: tests hand claimed work to a runner and read its details through it, as
 * the environment's Durable Object will.
 *   POST /test/runner/start          {name, start: RunnerStart} → the runner's summary (400: its error)
 *   GET  /test/runner/NAME           → details (404 when the runner holds no work)
 *   POST /test/runner/NAME/stop      {reason} → 204
 *   POST /test/runner/NAME/reset     → 204 once the runner was reset (as a restart does)
 */
import type { SessionRunner } from "../../durable-objects/session-runner.ts";
import type { RunnerStart } from "../../src/managed-agents/runner-contract.ts";

interface Env {
  SESSION_RUNNER: DurableObjectNamespace<SessionRunner>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    const runner = (name: string) => env.SESSION_RUNNER.get(env.SESSION_RUNNER.idFromName(name));
    try {
      if (request.method === "POST" && path === "/test/runner/start") {
        const body = (await request.json()) as { name: string; start: RunnerStart };
        return Response.json(await runner(body.name).start(body.start));
      }
      const stop = /^\/test\/runner\/(.+)\/stop$/.exec(path);
      if (request.method === "POST" && stop) {
        const body = (await request.json()) as { reason: string };
        await runner(decodeURIComponent(stop[1] ?? "")).stop(body.reason);
        return new Response(null, { status: 204 });
      }
      const reset = /^\/test\/runner\/(.+)\/reset$/.exec(path);
      if (request.method === "POST" && reset) {
        // The reset ends the call with the abort's error: that is the expected answer.
        await runner(decodeURIComponent(reset[1] ?? ""))
          .resetForTest()
          .catch(() => {});
        return new Response(null, { status: 204 });
      }
      const one = /^\/test\/runner\/(.+)$/.exec(path);
      if (request.method === "GET" && one) {
        const details = await runner(decodeURIComponent(one[1] ?? "")).details();
        return details ? Response.json(details) : new Response("no work", { status: 404 });
      }
      return new Response("not found", { status: 404 });
    } catch (error) {
      return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status: 400 });
    }
  },
};
