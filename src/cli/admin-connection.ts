/**
 * How the operator commands (`tether tunnel`, `environment`, `inspect`, `audit`) reach the admin
 * API: `--edge URL --admin-token T`, or TETHER_EDGE and TETHER_ADMIN_TOKEN, and the small client
 * they share.
 */
import { UsageError } from "./usage-error.ts";

/** The two options, for a command's `parseArgs` (defaults read from the environment when called). */
export function adminConnectionOptions() {
  return {
    edge: { type: "string", default: process.env.TETHER_EDGE },
    "admin-token": { type: "string", default: process.env.TETHER_ADMIN_TOKEN },
  } as const;
}

/** The admin API named by the parsed options; a usage error names what is missing. */
export function adminApiFrom(values: { edge?: string | undefined; "admin-token"?: string | undefined }): AdminApi {
  if (!values.edge) throw new UsageError("--edge URL is required (or set TETHER_EDGE)");
  if (!values["admin-token"]) throw new UsageError("--admin-token is required (or set TETHER_ADMIN_TOKEN)");
  return new AdminApi(values.edge, values["admin-token"]);
}

/** Minimal client of the edge's admin API; errors carry the edge's own message. */
export class AdminApi {
  readonly #edge: string;
  readonly #token: string;

  constructor(edge: string, token: string) {
    this.#edge = edge.replace(/\/$/, "");
    this.#token = token;
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.#request(method, path, body);
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  /** A GET whose body the caller reads as it streams (an export); errors as for `call`. */
  open(path: string): Promise<Response> {
    return this.#request("GET", path);
  }

  /** The edge's answer when it is a success; otherwise an AdminApiError with the edge's message. */
  async #request(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${this.#edge}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (res.ok) return res;
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // Not JSON (a proxy's HTML page, say): the text as it came.
    }
    throw new AdminApiError(res.status, `${method} ${path}: ${res.status} ${message}`);
  }
}

export class AdminApiError extends Error {
  override name = "AdminApiError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
