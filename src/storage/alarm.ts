/**
 * A Durable Object has one alarm, shared by everything that wants it to fire (expiry, pruning,
 * deadlines): asking for a time only ever moves it earlier, so no one's earlier need is lost.
 */
export async function alarmNoLaterThan(storage: DurableObjectStorage, at: number): Promise<void> {
  const current = await storage.getAlarm();
  if (current === null || current > at) await storage.setAlarm(at);
}
