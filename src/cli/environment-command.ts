/**
 * `tether environment <add|list|show|update|remove>`: Managed Agents environments through the
 * edge's admin API. The environment key and the webhook secret are never taken from a flag (flags
 * show in `ps` and shell history): they come from TETHER_ENVIRONMENT_KEY / TETHER_WEBHOOK_SECRET,
 * or from standard input with --key-stdin / --webhook-secret-stdin (one per line, key first when
 * both are read). The edge never shows them again.
 */

import { parseArgs } from "node:util";
import { adminApiFrom, adminConnectionOptions } from "./admin-connection.ts";
import { UsageError } from "./usage-error.ts";

const USAGE = `Usage:
  tether environment add NAME --environment-id ID --mode poll|webhook [options]
  tether environment list
  tether environment show NAME [--work WORK_ID]
  tether environment update NAME [--rotate-key] [--rotate-webhook-secret] [options]
  tether environment remove NAME
Options for add and update:
  --api-base-url URL     Anthropic's API (default https://api.anthropic.com)
  --mode poll|webhook    how the edge learns of work
  --max-sessions N       sessions run at once (default 16)
  --sandbox-ttl S        seconds a session's sandbox is kept after the session ends
Secrets (never flags):
  environment key   TETHER_ENVIRONMENT_KEY, or --key-stdin
  webhook secret    TETHER_WEBHOOK_SECRET, or --webhook-secret-stdin (webhook mode)
  update reads them only with --rotate-key / --rotate-webhook-secret.
Every command takes --edge URL --admin-token T (or TETHER_EDGE and TETHER_ADMIN_TOKEN).`;

const SECRET_FLAG = "secrets are never taken from flags (they would show in ps and shell history)";

export async function environmentCommand(argv: string[], stdin: () => Promise<string> = readStdin): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...adminConnectionOptions(),
      "environment-id": { type: "string" },
      "api-base-url": { type: "string" },
      mode: { type: "string" },
      "max-sessions": { type: "string" },
      "sandbox-ttl": { type: "string" },
      "key-stdin": { type: "boolean" },
      "webhook-secret-stdin": { type: "boolean" },
      "rotate-key": { type: "boolean" },
      "rotate-webhook-secret": { type: "boolean" },
      work: { type: "string" },
      // Accepted only to refuse them with a clear reason.
      key: { type: "string" },
      "environment-key": { type: "string" },
      "webhook-secret": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [action, name] = positionals;
  if (values.help || !action) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  for (const flag of ["key", "environment-key", "webhook-secret"] as const) {
    if (values[flag] !== undefined) {
      throw new UsageError(
        `--${flag}: ${SECRET_FLAG}; use TETHER_ENVIRONMENT_KEY / TETHER_WEBHOOK_SECRET or --key-stdin / --webhook-secret-stdin`,
      );
    }
  }
  const admin = adminApiFrom(values);
  const needName = (): string => {
    if (!name) throw new UsageError(`tether environment ${action} needs an environment NAME`);
    return encodeURIComponent(name);
  };
  const settings = {
    ...(values["api-base-url"] === undefined ? {} : { api_base_url: values["api-base-url"] }),
    ...(values.mode === undefined ? {} : { mode: values.mode }),
    ...(values["max-sessions"] === undefined
      ? {}
      : { max_sessions: integer(values["max-sessions"], "--max-sessions") }),
    ...(values["sandbox-ttl"] === undefined
      ? {}
      : { sandbox: { ttl_seconds: integer(values["sandbox-ttl"], "--sandbox-ttl") } }),
  };

  switch (action) {
    case "add": {
      const path = `/admin/environments`;
      if (!values["environment-id"]) throw new UsageError("--environment-id is required (env_… from the Console)");
      if (!values.mode) throw new UsageError("--mode poll|webhook is required");
      const secrets = await readSecrets(values, stdin, { key: true, webhookSecret: values.mode === "webhook" });
      if (!secrets.environment_key) {
        throw new UsageError("the environment key is required: set TETHER_ENVIRONMENT_KEY or pass --key-stdin");
      }
      const view = await admin.call("POST", path, {
        name: name ?? needName(),
        environment_id: values["environment-id"],
        ...settings,
        ...secrets,
      });
      return printEnvironment(view);
    }
    case "list":
      return print(await admin.call("GET", "/admin/environments"));
    case "show": {
      const work = values.work === undefined ? "" : `/sessions/${encodeURIComponent(values.work)}`;
      return print(await admin.call("GET", `/admin/environments/${needName()}${work}`));
    }
    case "update": {
      const path = `/admin/environments/${needName()}`;
      const secrets = await readSecrets(values, stdin, {
        key: values["rotate-key"] === true,
        webhookSecret: values["rotate-webhook-secret"] === true,
      });
      if (values["rotate-key"] && !secrets.environment_key) {
        throw new UsageError("--rotate-key needs the new key in TETHER_ENVIRONMENT_KEY or on stdin (--key-stdin)");
      }
      if (values["rotate-webhook-secret"] && !secrets.webhook_secret) {
        throw new UsageError(
          "--rotate-webhook-secret needs the new secret in TETHER_WEBHOOK_SECRET or on stdin (--webhook-secret-stdin)",
        );
      }
      return printEnvironment(await admin.call("PATCH", path, { ...settings, ...secrets }));
    }
    case "remove":
      return print(await admin.call("DELETE", `/admin/environments/${needName()}`));
    default:
      throw new UsageError(`unknown action "${action}"\n${USAGE}`);
  }
}

interface SecretFlags {
  "key-stdin"?: boolean;
  "webhook-secret-stdin"?: boolean;
}

/** The secrets wanted, from stdin when asked (key first, one per line), else from the environment. */
async function readSecrets(
  values: SecretFlags,
  stdin: () => Promise<string>,
  wanted: { key: boolean; webhookSecret: boolean },
): Promise<{ environment_key?: string; webhook_secret?: string }> {
  const lines =
    values["key-stdin"] || values["webhook-secret-stdin"]
      ? (await stdin()).split(/\r?\n/).map((line) => line.trim())
      : [];
  const fromStdin = (flag: boolean | undefined) => (flag ? lines.shift() || undefined : undefined);
  const key =
    fromStdin(values["key-stdin"]) ?? (wanted.key ? process.env.TETHER_ENVIRONMENT_KEY || undefined : undefined);
  const webhookSecret =
    fromStdin(values["webhook-secret-stdin"]) ??
    (wanted.webhookSecret ? process.env.TETHER_WEBHOOK_SECRET || undefined : undefined);
  return {
    ...(key === undefined ? {} : { environment_key: key }),
    ...(webhookSecret === undefined ? {} : { webhook_secret: webhookSecret }),
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function integer(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number`);
  return Number(text);
}

/** The environment, then (webhook mode) the URL to register in the Console, on its own line. */
function printEnvironment(view: unknown): number {
  print(view);
  const url = (view as { webhook_url?: unknown } | null)?.webhook_url;
  if (typeof url === "string") console.error(`Register this webhook URL in the Claude Console: ${url}`);
  return 0;
}

function print(value: unknown): number {
  console.log(JSON.stringify(value, null, 2));
  return 0;
}
