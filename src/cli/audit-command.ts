/**
 * `tether audit export`: the audit trail (tunnel calls, sandbox tool calls, operator actions) as
 * JSON lines, from `GET /admin/audit`, to stdout or a file. Streams: nothing is held whole, so an
 * export of any size runs in the memory of one chunk. Times are ISO 8601 or epoch milliseconds;
 * the edge checks them (and every other filter) and its refusal is printed as it is.
 */

import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { adminApiFrom, adminConnectionOptions } from "./admin-connection.ts";
import { UsageError } from "./usage-error.ts";

const USAGE = `Usage:
  tether audit export [--since TIME] [--until TIME] [--tunnel NAME] [--sandbox ID]
                      [--kind tunnel_call|sandbox_call|operator_action] [--out FILE]
                      --edge URL --admin-token T
TIME is ISO 8601 (2026-12-01, 2026-12-01T10:00:00Z) or epoch milliseconds; --since is inclusive,
--until exclusive. Without --out the JSON lines go to stdout; with it, a count goes to stderr.
The edge and admin token may also come from TETHER_EDGE and TETHER_ADMIN_TOKEN.`;

const FILTERS = ["since", "until", "tunnel", "sandbox", "kind"] as const;

export async function auditCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...adminConnectionOptions(),
      since: { type: "string" },
      until: { type: "string" },
      tunnel: { type: "string" },
      sandbox: { type: "string" },
      kind: { type: "string" },
      out: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [action, ...extra] = positionals;
  if (values.help || !action) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (action !== "export") throw new UsageError(`unknown action "${action}"\n${USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const query = new URLSearchParams({ format: "jsonl" });
  for (const filter of FILTERS) {
    const value = values[filter];
    if (value !== undefined) query.set(filter, value);
  }
  const res = await adminApiFrom(values).open(`/admin/audit?${query}`);
  if (!res.body) throw new Error("the edge answered without a body");
  let records = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (const byte of chunk) if (byte === 0x0a) records++;
      done(null, chunk);
    },
  });
  const source = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  if (values.out === undefined) {
    await pipeline(source, counter, process.stdout);
    return 0;
  }
  await pipeline(source, counter, createWriteStream(values.out));
  console.error(`exported ${records} records to ${values.out}`);
  return 0;
}
