/**
 * Preloaded (`node --import`) into servers started by tests whose CLI cannot choose a host
 * (server-everything's HTTP mode listens on every interface): a listen() without a host binds to
 * 127.0.0.1 instead, so test servers never face the network.
 */
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(this: net.Server, ...args: unknown[]) {
  const [first, second] = args;
  const isPort = typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first));
  if (isPort && typeof second !== "string") args.splice(1, 0, "127.0.0.1");
  else if (first && typeof first === "object" && !("path" in first) && !("host" in first)) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return (listen as (...rest: unknown[]) => net.Server).apply(this, args);
} as typeof listen;
