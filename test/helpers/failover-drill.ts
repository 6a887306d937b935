/**
 * A failover drill through the real edge, shared by the e2e test and the tunnel benchmark: two
 * gateways serve one tunnel, clients keep opening new MCP sessions (one echo call each), and one
 * gateway is SIGKILLed (by its PID) at a point fixed by a count of finished iterations, never by a
 * timer. A "witness" call is pinned to the doomed gateway through a server name only it announces,
 * so at least one call is surely in flight there when it dies.
 *
 * Each iteration records its phase when it started: "before" the kill, "during" (killed, but the
 * edge has not yet dropped the socket, so a new session may still be routed to the dead gateway),
 * or "after" the edge listed only the survivor. The drill ends once every client finished `after`
 * iterations that started in the "after" phase.
 */
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { callEcho } from "../../bench/lib/mcp-calls.ts";
import type { RunningEdge } from "./edge.ts";
import { connectMcp, type McpSession, mcpUrl } from "./mcp-client.ts";
import type { RunningProcess } from "./processes.ts";
import { within } from "./stdio-fixtures.ts";

export type Phase = "before" | "during" | "after";

export interface Iteration {
  client: number;
  phase: Phase;
  startedAt: number;
  endedAt: number;
  /** Undefined when the session opened and the call answered correctly. */
  error?: string;
}

export interface WitnessOutcome {
  /** The JSON-RPC error code the witness call failed with (undefined: it did not fail as JSON-RPC). */
  code: number | undefined;
  message: string;
  /** From the kill to the witness call settling. */
  settledAfterMs: number;
}

export interface DrillOptions {
  edge: RunningEdge;
  tunnel: string;
  agentToken: string;
  /** The server both gateways announce; each iteration opens a session on it and calls echo. */
  server: string;
  /** Announced by the doomed gateway alone: the witness's long call runs there. */
  pinnedServer: string;
  doomed: RunningProcess;
  clients: number;
  /** Iterations finished (all clients together) before the kill. */
  before: number;
  /** Iterations each client finishes, all started after the edge dropped the doomed gateway. */
  after: number;
}

export interface DrillResult {
  iterations: Iteration[];
  witness: WitnessOutcome;
  killedAt: number;
  /** When the edge stopped listing the doomed gateway. */
  droppedAt: number;
}

/** Bound for any one step; generous, so a slow machine never fails the drill, only a hang would. */
const STEP_MS = 30_000;

export async function runFailoverDrill(options: DrillOptions): Promise<DrillResult> {
  const { edge, tunnel, agentToken, doomed } = options;
  const doomedId = await gatewayId(doomed);
  const witnessSession = await connectMcp(mcpUrl(edge, tunnel, options.pinnedServer), agentToken);
  const { outcome: witness } = await startWitness(witnessSession);

  const iterations: Iteration[] = [];
  let phase: Phase = "before";
  let killedAt = 0;
  let droppedAt = 0;
  let killing: Promise<void> | undefined;
  const kill = async () => {
    killedAt = Date.now();
    await doomed.stop("SIGKILL");
    phase = "during";
    await dropped(edge, tunnel, doomedId);
    droppedAt = Date.now();
    phase = "after";
  };

  const client = async (index: number) => {
    let afterDone = 0;
    while (afterDone < options.after) {
      const started = phase;
      const startedAt = Date.now();
      const error = await oneIteration(mcpUrl(edge, tunnel, options.server), agentToken);
      iterations.push({ client: index, phase: started, startedAt, endedAt: Date.now(), error });
      if (started === "after") afterDone++;
      // The clients carry on through the kill, as agents would.
      if (!killing && iterations.length >= options.before) killing = kill();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
    await killing;
    const settled = await within(witness, STEP_MS, "the witness call to settle");
    return { iterations, witness: { ...settled, settledAfterMs: settled.at - killedAt }, killedAt, droppedAt };
  } finally {
    await witnessSession.close();
  }
}

/** One new session, one echo call, then DELETE; the error message if any step failed. */
async function oneIteration(url: string, token: string): Promise<string | undefined> {
  let session: McpSession | undefined;
  try {
    session = await connectMcp(url, token, { connectMs: STEP_MS });
    await within(callEcho(session), STEP_MS, "an echo call");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await session?.close();
  }
}

/** A long call on the pinned server, under way (first progress seen) when this resolves. */
interface WitnessSettled {
  code: number | undefined;
  message: string;
  at: number;
}

async function startWitness(session: McpSession): Promise<{ outcome: Promise<WitnessSettled> }> {
  let underWay: () => void = () => {};
  const progressed = new Promise<void>((resolve) => {
    underWay = resolve;
  });
  const outcome = session.client
    .callTool({ name: "trigger-long-running-operation", arguments: { duration: 120, steps: 120 } }, undefined, {
      onprogress: () => underWay(),
      timeout: 300_000,
    })
    .then(
      (): WitnessSettled => ({ code: undefined, message: "the witness call completed", at: Date.now() }),
      (error: unknown): WitnessSettled => ({
        code: error instanceof McpError ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
        at: Date.now(),
      }),
    );
  await within(progressed, STEP_MS, "the witness call to be under way");
  return { outcome };
}

async function gatewayId(gateway: RunningProcess): Promise<string> {
  const line = await gateway.waitFor(/ connected .*gatewayId=/);
  const id = /gatewayId=(\S+)/.exec(line)?.[1];
  if (!id) throw new Error(`no gatewayId in ${line}`);
  return id;
}

/** Polls the admin API until the edge no longer lists gateway `id` (bounded by STEP_MS). */
async function dropped(edge: RunningEdge, tunnel: string, id: string): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while ((await connectedGateways(edge, tunnel)).includes(id)) {
    if (Date.now() > deadline) throw new Error(`the edge still lists gateway ${id} ${STEP_MS} ms after its kill`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The gateway ids the edge lists as connected to `tunnel` (admin API). */
export async function connectedGateways(edge: RunningEdge, tunnel: string): Promise<string[]> {
  const response = await fetch(`${edge.url}/admin/tunnels/${tunnel}`, {
    headers: { authorization: `Bearer ${edge.adminToken}` },
  });
  if (!response.ok) throw new Error(`tunnel detail: ${response.status} ${await response.text()}`);
  const detail = (await response.json()) as { gateways: { id: string }[] };
  return detail.gateways.map((gateway) => gateway.id);
}
