/**
 * `tether tunnel <create|list|show|token|revoke|delete>`: the operator's side of the admin API.
 * Tokens are printed once, exactly as the edge returns them; the edge keeps only their hashes.
 */

import { parseArgs } from "node:util";
import { adminApiFrom, adminConnectionOptions } from "./admin-connection.ts";
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
      ...adminConnectionOptions(),
      role: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [action, name, tokenId] = positionals;
  if (values.help || !action) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const admin = adminApiFrom(values);
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

function print(value: unknown): number {
  console.log(JSON.stringify(value, null, 2));
  return 0;
}
