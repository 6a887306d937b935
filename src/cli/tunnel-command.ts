/**
 * `tether tunnel <create|list|show|token|revoke|delete>`: the operator's side of the admin API.
 * Tokens are printed once, exactly as the edge returns them; the edge keeps only their hashes.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./usage-error.ts";

const USAGE = `Usage:
  tether tunnel create NAME   --edge URL --admin-token T
  tether tunnel list          --edge URL --admin-token T
  tether tunnel show NAME     --edge URL --admin-token T
  tether tunnel token NAME    --role gateway|agent --edge URL --admin-token T   (issue another token)
  tether tunnel revoke NAME TOKEN_ID --edge URL --admin-token T
  tether tunnel delete NAME   --edge URL --admin-token T
The edge and admin token may also come from TETHER_EDGE and TETHER_ADMIN_TOKEN.`;

export async function tunnelCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      edge: { type: "string", default: process.env.TETHER_EDGE },
      "admin-token": { type: "string", default: process.env.TETHER_ADMIN_TOKEN },
      role: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [action, name, tokenId] = positionals;
  if (values.help || !action) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.edge) throw new UsageError("--edge URL is required (or set TETHER_EDGE)");
  if (!values["admin-token"]) throw new UsageError("--admin-token is required (or set TETHER_ADMIN_TOKEN)");
  const admin = new AdminApi(values.edge, values["admin-token"]);
  const needName = (): string => {
    if (!name) throw new UsageError(`tether tunnel ${action} needs a tunnel NAME`);
    return encodeURIComponent(name);
  };

  switch (action) {
    case "create":
      return print(await admin.call("POST", "/admin/tunnels", { name: name ?? needName() }));
    case "list":
      return print(await admin.call("GET", "/admin/tunnels"));
    case "show":
      return print(await admin.call("GET", `/admin/tunnels/${needName()}`));
    case "token": {
      if (values.role !== "gateway" && values.role !== "agent") throw new UsageError("--role must be gateway or agent");
      return print(await admin.call("POST", `/admin/tunnels/${needName()}/tokens`, { role: values.role }));
    }
    case "revoke": {
      const path = `/admin/tunnels/${needName()}/tokens/${encodeURIComponent(tokenId ?? "")}`;
      if (!tokenId) throw new UsageError("tether tunnel revoke needs NAME and TOKEN_ID");
      return print(await admin.call("DELETE", path));
    }
    case "delete":
      return print(await admin.call("DELETE", `/admin/tunnels/${needName()}`));
    default:
      throw new UsageError(`unknown action "${action}"\n${USAGE}`);
  }
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
    const res = await fetch(`${this.#edge}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? text;
      throw new AdminApiError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return parsed;
  }

  /** A GET whose body the caller reads as it streams (an export); errors as for `call`. */
  async open(path: string): Promise<Response> {
    const res = await fetch(`${this.#edge}${path}`, { headers: { authorization: `Bearer ${this.#token}` } });
    if (res.ok) return res;
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // Not JSON: the text as it came.
    }
    throw new AdminApiError(res.status, `GET ${path}: ${res.status} ${message}`);
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

function print(value: unknown): number {
  console.log(JSON.stringify(value, null, 2));
  return 0;
}
