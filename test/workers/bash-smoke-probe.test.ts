import { Bash, InMemoryFs } from "just-bash";
import { expect, test } from "vitest";

test("probe", async () => {
  const bash = new Bash({ fs: new InMemoryFs(), cwd: "/workspace" });
  const r = await bash.exec("echo hi | tr a-z A-Z; echo '{\"a\":1}' | jq .a; seq 3 | awk '{s+=$1} END {print s}'");
  console.log(JSON.stringify(r));
  const t0 = Date.now();
  const r2 = await bash.exec("while true; do :; done");
  console.log(JSON.stringify(r2), Date.now() - t0);
  expect(r.exitCode).toBe(0);
});
