import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { JUST_BASH_VERSION } from "../../src/sandbox/bash/shell-state.ts";

// Stored shell states name the just-bash version that wrote them; that name must be the one that runs.
function json(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as Record<string, unknown>;
}

describe("just-bash pin", () => {
  test("package.json pins just-bash exactly, to the installed version JUST_BASH_VERSION names", () => {
    const dependencies = json("../../package.json").dependencies as Record<string, string>;
    expect(dependencies["just-bash"]).toBe(JUST_BASH_VERSION);
    expect(json("../../node_modules/just-bash/package.json").version).toBe(JUST_BASH_VERSION);
  });
});
