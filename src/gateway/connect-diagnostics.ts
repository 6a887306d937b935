/**
 * Turning what the edge says when it refuses or drops a gateway into log lines an operator can act
 * on: the HTTP status and the edge's own message for a refused upgrade, a hint for close codes.
 */
import type { IncomingMessage } from "node:http";

/** The edge's error message from a refused upgrade (JSON `error.message`), else the status text. */
export async function readReason(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 2_000);
      response.on("data", (chunk: Buffer) => {
        if (size < 8192) chunks.push(chunk);
        size += chunk.byteLength;
      });
      response.on("end", () => {
        clearTimeout(timer);
        resolve();
      });
      response.on("error", reject);
    });
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { error?: { message?: unknown } };
    if (typeof body.error?.message === "string") return body.error.message;
  } catch {
    // Not JSON: fall back to the status line.
  }
  return response.statusMessage ?? "";
}

export function closeHint(code: number): string | undefined {
  switch (code) {
    case 4400:
      return "the edge rejected a frame from this gateway (protocol error)";
    case 4401:
      return "the gateway token was revoked or the tunnel deleted";
    case 4426:
      return "the edge speaks another tunnel protocol version: upgrade the gateway";
    case 1012:
      return "the edge's relay restarted";
    case 1006:
      return "the connection dropped without a close frame";
    default:
      return undefined;
  }
}

/** The log event for a refused upgrade: 401/403/404 are authentication problems. */
export function describeRefusal(
  status: number,
  reason: string,
  tunnel: string,
): { event: string; status: number; reason: string; hint?: string } {
  if (status === 401 || status === 403) {
    return {
      event: "auth_rejected",
      status,
      reason,
      hint: `the edge refused the gateway token of tunnel "${tunnel}": check --token`,
    };
  }
  if (status === 404) {
    return {
      event: "auth_rejected",
      status,
      reason,
      hint: `tunnel "${tunnel}" does not exist on this edge, or the token belongs to another tunnel`,
    };
  }
  return { event: "handshake_failed", status, reason };
}
