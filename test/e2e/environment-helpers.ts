/**
 * Managed Agents environments end to end: the real edge (Miniflare) and the local stand-in for
 * Anthropic's API (Node), which the edge reaches at its 127.0.0.1 URL given as `api_base_url`.
 * Every admin answer and every console line of the edge is kept, so a test can prove no secret
 * (nor any 8-character piece of one) ever left the edge.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll } from "vitest";
import { importWebhookSecret, webhookHeaders } from "../../src/managed-agents/webhook-signature.ts";
import { type RunningEdge, startEdge } from "../helpers/edge.ts";
import { type AnthropicApiStandIn, startAnthropicApiStandIn } from "../stand-ins/anthropic-api-stand-in.ts";

export { eventually } from "./sandbox-helpers.ts";

export interface AdminAnswer {
  status: number;
  body: unknown;
  text: string;
}

export interface EnvironmentHarness {
  edge(): RunningEdge;
  api(): AnthropicApiStandIn;
  /** An admin API call (admin token unless `token` says otherwise; null: no token). */
  admin(method: string, path: string, body?: unknown, token?: string | null): Promise<AdminAnswer>;
  /** Everything the edge said: admin answers, webhook answers and console lines. */
  transcript(): string;
  /** Polls of a stand-in environment's queue answered so far. */
  polls(environmentId: string): number;
  /**
   * A request on a connection of its own, closed after it: for bodies the edge refuses unread
   * (413), after which workerd closes the connection (a pooled one would fail the next request).
   */
  isolated(method: string, path: string, headers: Record<string, string>, body: string): Promise<AdminAnswer>;
  /** POSTs a webhook delivery signed with `secret` (or raw headers) to the environment's URL. */
  deliver(name: string, body: string, signing: Signing): Promise<AdminAnswer>;
}

export type Signing = { secret: string; id?: string; timestamp?: number } | { headers: Record<string, string> };

export function environmentHarness(): EnvironmentHarness {
  let edge: RunningEdge | undefined;
  let api: AnthropicApiStandIn | undefined;
  const lines: string[] = [];
  beforeAll(async () => {
    api = await startAnthropicApiStandIn();
    edge = await startEdge({ onLog: ({ level, message }) => lines.push(`${level} ${message}`) });
  });
  afterAll(async () => {
    await edge?.close();
    await api?.close();
  });
  const running = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not running`);
    return value;
  };
  const record = async (response: Response): Promise<AdminAnswer> => {
    const text = await response.text();
    lines.push(`answer ${response.status} ${text}`);
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: response.status, body, text };
  };
  return {
    edge: () => running(edge, "the edge"),
    api: () => running(api, "the stand-in"),
    async admin(method, path, body, token) {
      const bearer = token === undefined ? running(edge, "the edge").adminToken : token;
      const response = await fetch(`${running(edge, "the edge").url}${path}`, {
        method,
        headers: {
          ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
          "content-type": "application/json",
        },
        body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      return record(response);
    },
    transcript: () => lines.join("\n"),
    async isolated(method, path, headers, body) {
      const url = new URL(`${running(edge, "the edge").url}${path}`);
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(url, { method, headers, agent: false, timeout: 60_000 }, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          res.on("error", reject);
        });
        // The edge may answer and close before the whole body is written: that is not a failure here.
        req.on("error", (error) => (req.writableFinished ? undefined : reject(error)));
        req.end(body);
      });
      lines.push(`answer ${status} ${text}`);
      return { status, body: text ? JSON.parse(text) : null, text };
    },
    polls: (environmentId) =>
      running(api, "the stand-in").calls.filter(
        (call) => call.method === "GET" && call.path.endsWith(`/environments/${environmentId}/work/poll`),
      ).length,
    async deliver(name, body, signing) {
      let headers: Record<string, string>;
      if ("headers" in signing) headers = signing.headers;
      else {
        const key = await importWebhookSecret(signing.secret);
        const signed = await webhookHeaders([key], {
          id: signing.id ?? `msg_${randomBytes(8).toString("hex")}`,
          timestamp: signing.timestamp ?? Math.floor(Date.now() / 1000),
          body,
        });
        headers = Object.fromEntries(signed);
      }
      const response = await fetch(`${running(edge, "the edge").url}/managed-agents/${name}/webhook`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(60_000),
      });
      return record(response);
    },
  };
}

export function newWebhookSecret(bytes = 32): string {
  return `whsec_${randomBytes(bytes).toString("base64")}`;
}

/** A `session.status_run_started` event as Anthropic sends it. */
export function runStartedBody(sessionId: string, type = "session.status_run_started"): string {
  return JSON.stringify({
    type: "event",
    id: `event_${randomBytes(8).toString("hex")}`,
    created_at: new Date().toISOString(),
    data: { type, id: sessionId, organization_id: "org_e2e", workspace_id: "wrkspc_e2e" },
  });
}

/**
 * Pieces of a secret that must never appear: its first 8 characters (when they include some of its
 * random part) and every 8-character window of that random part (after the public `sk-ant-oat01-`
 * or `whsec_` prefix).
 */
export function secretPieces(secret: string): string[] {
  const random = secret.replace(/^(sk-ant-[a-z]+\d*-|whsec_)/, "");
  // The first 8 characters, unless they are all public (`sk-ant-o`).
  const pieces = new Set(random.length + 8 > secret.length ? [secret.slice(0, 8)] : []);
  for (let i = 0; i + 8 <= random.length; i++) pieces.add(random.slice(i, i + 8));
  return [...pieces];
}

/** The first piece of any secret found in `text`, or null. */
export function leakedPiece(text: string, secrets: readonly string[]): string | null {
  for (const secret of secrets) for (const piece of secretPieces(secret)) if (text.includes(piece)) return piece;
  return null;
}
