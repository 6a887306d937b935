/**
 * A WebSocket client for echo endpoints: one socket, one frame in flight, each round-trip
 * resolving with the frame that came back. Benchmarks use it for the floor of a WebSocket hop.
 */
import WebSocket from "ws";

export interface EchoSocket {
  /** Sends one binary frame and resolves when the echo arrives (bounded by `ms`). */
  roundTrip(payload: Uint8Array, ms?: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openEchoSocket(url: string, headers: Record<string, string>, ms = 10_000): Promise<EchoSocket> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  ws.binaryType = "nodebuffer";
  let pending: { resolve(frame: Uint8Array): void; reject(error: Error): void } | null = null;
  const fail = (error: Error) => {
    pending?.reject(error);
    pending = null;
  };
  ws.on("message", (data) => {
    const waiter = pending;
    pending = null;
    waiter?.resolve(data as Buffer);
  });
  ws.on("close", (code) => fail(new Error(`echo socket closed (${code})`)));
  ws.on("error", fail);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`echo socket ${url} did not open within ${ms} ms`));
    }, ms);
    ws.once("open", () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(`echo socket ${url} refused: ${response.statusCode}`));
    });
    ws.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return {
    roundTrip(payload, timeoutMs = 10_000) {
      if (pending) return Promise.reject(new Error("one frame at a time per echo socket"));
      return new Promise<Uint8Array>((resolve, reject) => {
        const timer = setTimeout(() => fail(new Error(`no echo within ${timeoutMs} ms`)), timeoutMs);
        pending = {
          resolve: (frame) => {
            clearTimeout(timer);
            resolve(frame);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        ws.send(payload);
      });
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
      ws.close(1000, "done");
      const timer = setTimeout(() => ws.terminate(), 2_000);
      await closed;
      clearTimeout(timer);
    },
  };
}
