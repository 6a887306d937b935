import { describe, expect, test } from "vitest";
import { fail, ok, settle, unwrap } from "../../src/errors/rpc-result.ts";
import { TetherError } from "../../src/errors/tether-error.ts";

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("nothing was thrown");
}

describe("RPC results", () => {
  test("a value passes through settle and unwrap unchanged", async () => {
    expect(await settle(() => 42)).toEqual({ ok: true, value: 42 });
    expect(await settle(async () => "later")).toEqual({ ok: true, value: "later" });
    expect(unwrap(ok({ a: 1 }))).toEqual({ a: 1 });
  });

  test("a TetherError becomes a clonable value and is rebuilt with its code, status and headers", async () => {
    const original = new TetherError("no_gateway", "no gateway is connected", { headers: { "Retry-After": "5" } });
    const result = await settle(() => {
      throw original;
    });
    expect(result).toEqual(fail(original));
    // What crosses the boundary survives structured cloning (as Durable Object RPC does).
    const crossed = structuredClone(result);
    const rebuilt = thrownBy(() => unwrap(crossed));
    expect(rebuilt).toBeInstanceOf(TetherError);
    expect(rebuilt).toMatchObject({
      code: "no_gateway",
      status: 503,
      jsonRpcCode: -32010,
      message: "no gateway is connected",
      headers: { "Retry-After": "5" },
    });
  });

  test("an unexpected error is not turned into a refusal: it still throws", async () => {
    await expect(
      settle(() => {
        throw new RangeError("bug");
      }),
    ).rejects.toThrow(RangeError);
  });
});
