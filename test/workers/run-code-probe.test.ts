import { env, exports } from "cloudflare:workers";
import { expect, test } from "vitest";
import { guardCode } from "../../src/sandbox/run-code/guard.ts";
import { runCode } from "../../src/sandbox/run-code/run-code.ts";

const files = { readFile: async (p: string) => `content of ${p}`, writeFile: async () => {} };

test("probe", async () => {
  console.log(guardCode("for(;;){ try{}catch{} }\nconst f = x => ({a: x});\nclass A { m(){ return 1 } }\n1+1").body);
  for (const code of [
    "console.log('hi'); return 42",
    "1+2",
    "while(true){}",
    "try { while(1){} } catch (e) {}",
    "for(;;){ try{}catch{} }",
    "function f(){ return f() } f()",
    "throw new Error('boom')",
    "await fetch('https://example.com/x')",
    "return await files.readFile('a.txt')",
    "let x = ;",
    "await new Promise(r => setTimeout(r, 5000))",
  ]) {
    const r = await runCode(env.LOADER, { code, language: "javascript", timeout_ms: 200 }, { files, allowHosts: [] });
    console.log(code, "=>", JSON.stringify(r));
  }
  const gate = exports.EgressGate({ props: { allow: ["127.0.0.1", "*.allowed.test"] } });
  for (const code of ["await fetch('https://blocked.test/x')", "const r = await fetch('http://127.0.0.1:1/'); return r.status"]) {
    const r = await runCode(env.LOADER, { code, language: "javascript", timeout_ms: 2000 }, { files, allowHosts: ["127.0.0.1"], egress: gate });
    console.log(code, "=>", JSON.stringify(r));
  }
  expect(1).toBe(1);
});
