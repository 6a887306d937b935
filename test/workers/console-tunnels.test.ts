import { describe, expect, test } from "vitest";
import { page, tableRows, textOf } from "./console-fixtures.ts";
import { createTunnel, warmUpEdge } from "./tunnel-fixtures.ts";
import { SimGateway } from "./tunnel-sim-gateway.ts";

warmUpEdge();

describe("console: tunnels", () => {
  test("the list shows each tunnel with its gateways and servers", async () => {
    const tunnel = await createTunnel();
    const gateway = await SimGateway.connect(tunnel);
    const html = await page("/console/tunnels");
    const row = tableRows(html, "tunnels").find((r) => r.includes(`/console/tunnels/${tunnel.name}"`));
    expect(row).toBeDefined();
    expect(textOf(row!)).toContain("echo");
    gateway.close();
  });

  test("the tunnel page renders", async () => {
    const tunnel = await createTunnel();
    const html = await page(`/console/tunnels/${tunnel.name}`);
    expect(html).toContain(`Tunnel ${tunnel.name}`);
  });
});
