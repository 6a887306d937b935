/**
 * Takes in and drops a body the server has already decided to refuse, up to `limit` bytes, then
 * cancels whatever is left. An HTTP/1.1 client that is still sending a body only reads the answer
 * once its write is done: answer first and the connection closes under it, and clients such as
 * Node's fetch report EPIPE instead of the error we meant to give. Past `limit` (a body too large
 * to be worth reading) the connection is given up instead, as servers with lingering close do.
 */
export async function discardBody(body: ReadableStream<Uint8Array>, limit: number): Promise<void> {
  const reader = body.getReader();
  try {
    let seen = 0;
    while (seen <= limit) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // A body that fails while being dropped has nothing left to protect.
  } finally {
    reader.releaseLock();
  }
}
