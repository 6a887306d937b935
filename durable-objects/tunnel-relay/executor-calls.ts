/**
 * Requests from sandboxes to a gateway's executor (src/protocol/executor-api.ts), relayed over the
 * tunnel like an agent's request: a RelayCall on a stream whose Open names `executor:NAME`. Which
 * gateway serves it: the one whose executor is the sandbox's pinned instance (its workspace lives
 * on that machine), else the least busy one announcing the executor. Every call is traced with
 * the tunnel's other calls (server `executor:NAME`, token id `sandbox:ID`).
 *
 * Workspace deletions that could not reach the executor (its gateway offline when the sandbox
 * was deleted or expired) are kept in `workspace_deletions` (./storage.ts) and shown to
 * operators, so an orphaned directory on a customer machine is never silently forgotten; when a
 * gateway announcing that instance says Hello, the deletion is made and its row cleared.
 */
import { TetherError } from "../../src/errors/tether-error.ts";
import { EXECUTOR_INSTANCE_HEADER, executorPaths, executorUpstreamName } from "../../src/protocol/executor-api.ts";
import type { HeaderList } from "../../src/protocol/messages.ts";
import { all, run } from "../../src/storage/sql.ts";
import { NO_GATEWAY_RETRY_AFTER_S } from "./agent-routing.ts";
import { headerValue } from "./forward-headers.ts";
import type { GatewayConnection } from "./gateway-connection.ts";
import type { GatewayPool } from "./gateway-pool.ts";
import { type CallOutcome, RelayCall } from "./relay-call.ts";
import type { TraceStore } from "./trace-store.ts";

export interface ExecutorRequestInit {
  /** The sandbox asking (traced as token `sandbox:ID`). */
  sandboxId: string;
  method: string;
  /** A path of the wire API (executorPaths), query included if any. */
  path: string;
  headers: HeaderList;
  body: ReadableStream<Uint8Array> | Uint8Array | null;
}

export interface ExecutorAnswer {
  response: Response;
  /** The executor instance that answered (a sandbox pins it on first contact). */
  instance: string;
  gatewayId: string;
  /**
   * The executor's Content-Length (a file's size): the relay drops it from relayed headers (each
   * hop recomputes it), and a streamed body crossing RPC has no length of its own.
   */
  contentLength: number | null;
}

export interface WorkspaceDeletion {
  executor: string;
  instance: string;
  sandboxId: string;
  /** Why it has not happened yet. */
  reason: string;
  at: number;
}

/** What `executorRequest` answers (not_found) for a tunnel that does not exist, and nothing else does. */
export const NO_SUCH_TUNNEL = "no such tunnel";

/** The one refusal for an executor no connected gateway serves (503: it may come back). */
export function executorUnavailable(tunnel: string, executor: string, instance: string | null): TetherError {
  const which = instance === null ? "" : ` (the sandbox's workspace is on its instance ${instance})`;
  return new TetherError(
    "no_gateway",
    `the gateway serving executor "${executor}" on tunnel "${tunnel}" is not connected${which}; retry shortly`,
    { headers: { "Retry-After": String(NO_GATEWAY_RETRY_AFTER_S) } },
  );
}

export class ExecutorCalls {
  readonly #pool: GatewayPool;
  readonly #traces: TraceStore;
  readonly #sql: SqlStorage;

  constructor(pool: GatewayPool, traces: TraceStore, sql: SqlStorage) {
    this.#pool = pool;
    this.#traces = traces;
    this.#sql = sql;
  }

  /** Relays one request; rejects (no_gateway, gateway_lost, …) when there is no answer to relay. */
  async request(
    tunnel: string,
    executor: string,
    instance: string | null,
    init: ExecutorRequestInit,
    keepAliveMs: number,
  ): Promise<ExecutorAnswer> {
    const connection = this.#pool.pickExecutor(executor, instance);
    const announced = connection?.executor(executor);
    const gatewayId = connection?.hello?.gatewayId;
    const server = executorUpstreamName(executor);
    if (!connection || !announced || !gatewayId) {
      const error = executorUnavailable(tunnel, executor, instance);
      this.#trace(init, server, null, { status: error.status, error: error.message, bytesIn: 0, bytesOut: 0 });
      throw error;
    }
    const [path, query = ""] = splitQuery(init.path);
    const headers: HeaderList = [...init.headers, [EXECUTOR_INSTANCE_HEADER, announced.instance]];
    const hasBody = init.body !== null && !(init.body instanceof Uint8Array && init.body.byteLength === 0);
    let contentLength: number | null = null;
    const response = await new RelayCall(connection, {
      server,
      open: { server, method: init.method, path, query, headers, hasBody },
      body: hasBody ? init.body : null,
      keepAliveMs,
      failureEvent: () => null,
      onHead: (head) => {
        const length = Number(headerValue(head.headers, "content-length") ?? Number.NaN);
        contentLength = Number.isSafeInteger(length) && length >= 0 ? length : null;
      },
      onDone: (outcome) => this.#trace(init, server, gatewayId, outcome),
    }).start();
    return { response, instance: announced.instance, gatewayId, contentLength };
  }

  /**
   * Deletes a sandbox's workspace (best effort); when the executor cannot be reached the deletion
   * is recorded for operators. True when the executor confirmed it.
   */
  async deleteWorkspace(
    tunnel: string,
    executor: string,
    instance: string | null,
    sandboxId: string,
    keepAliveMs: number,
  ): Promise<{ deleted: boolean; reason: string | null }> {
    const init = { sandboxId, method: "DELETE", path: executorPaths.sandbox(sandboxId), headers: [], body: null };
    let reason: string;
    try {
      const answer = await this.request(tunnel, executor, instance, init, keepAliveMs);
      await answer.response.body?.cancel();
      if (answer.response.ok || answer.response.status === 404) {
        run(this.#sql, "DELETE FROM workspace_deletions WHERE executor = ? AND sandbox_id = ?", executor, sandboxId);
        return { deleted: true, reason: null };
      }
      reason = `the executor answered ${answer.response.status}`;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    run(
      this.#sql,
      "INSERT OR REPLACE INTO workspace_deletions VALUES (?, ?, ?, ?, ?)",
      executor,
      instance ?? "",
      sandboxId,
      reason,
      Date.now(),
    );
    return { deleted: false, reason };
  }

  /** Deletes the owed workspaces that live on an executor instance `connection` just announced. */
  async retryDeletions(tunnel: string, connection: GatewayConnection, keepAliveMs: number): Promise<void> {
    const announced = connection.hello?.executors ?? [];
    const owed = this.pendingDeletions().filter((deletion) =>
      announced.some((executor) => executor.name === deletion.executor && executor.instance === deletion.instance),
    );
    for (const deletion of owed) {
      await this.deleteWorkspace(tunnel, deletion.executor, deletion.instance, deletion.sandboxId, keepAliveMs);
    }
  }

  /** Workspace deletions still owed to executors, newest first. */
  pendingDeletions(): WorkspaceDeletion[] {
    return all<{ executor: string; instance: string; sandbox_id: string; reason: string; at: number }>(
      this.#sql,
      "SELECT * FROM workspace_deletions ORDER BY at DESC LIMIT 200",
    ).map((row) => ({
      executor: row.executor,
      instance: row.instance,
      sandboxId: row.sandbox_id,
      reason: row.reason,
      at: row.at,
    }));
  }

  #trace(
    init: ExecutorRequestInit,
    server: string,
    gatewayId: string | null,
    outcome: Pick<CallOutcome, "status" | "error" | "bytesIn" | "bytesOut"> & Partial<CallOutcome>,
  ): void {
    this.#traces.add({
      at: outcome.startedAt ?? Date.now(),
      server,
      httpMethod: init.method,
      rpcMethod: null,
      tool: toolOf(init.path),
      sessionId: null,
      gatewayId,
      tokenId: `sandbox:${init.sandboxId}`,
      status: outcome.status,
      durationMs: outcome.durationMs ?? 0,
      bytesIn: outcome.bytesIn,
      bytesOut: outcome.bytesOut,
      error: outcome.error,
    });
  }
}

function splitQuery(path: string): [string, string?] {
  const at = path.indexOf("?");
  return at < 0 ? [path] : [path.slice(0, at), path.slice(at)];
}

/** The tool of a `…/tools/TOOL` path, for the trace's tool column. */
function toolOf(path: string): string | null {
  const match = /\/tools\/([^/?]+)$/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}
