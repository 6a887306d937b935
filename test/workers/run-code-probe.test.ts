import { env } from "cloudflare:workers";
import { test } from "vitest";

const loopBody = (g: string) => `let s = 0; for (let i = 0; i < 2e7; i++) {${g} s += i & 7; } return s;`;
const variants: Record<string, Record<string, string>> = {
  none: { "rt.js": "export function G(){}", "user.js": `import {G} from "./rt.js"; export default function(){ ${loopBody("")} }` },
  A_letcall: {
    "rt.js": `let stop = null; let checks = 0; const clock = Date.now.bind(Date); let deadline = Infinity;
export function G(){ if (stop !== null) throw new Error(stop); if ((++checks & 15) !== 0) return; checks--; const n = clock(); checks++; if (n >= deadline) stop = "x"; if (stop !== null) throw new Error(stop); }`,
    "user.js": `import {G} from "./rt.js"; export default function(){ ${loopBody("G();")} }`,
  },
  B_objcall: {
    "rt.js": `const st = { stop: null, n: 16 }; const clock = Date.now.bind(Date); let deadline = Infinity;
function slow(){ if (st.stop !== null) throw new Error(st.stop); const n = clock(); st.n = 16; if (n >= deadline) { st.stop = "x"; st.n = -Infinity; throw new Error("x"); } }
export function G(){ if (--st.n < 0) slow(); }`,
    "user.js": `import {G} from "./rt.js"; export default function(){ ${loopBody("G();")} }`,
  },
  C_inline: {
    "rt.js": `export const st = { stop: null, n: 16 }; const clock = Date.now.bind(Date); let deadline = Infinity;
export function G(){ if (st.stop !== null) throw new Error(st.stop); const n = clock(); st.n = 16; if (n >= deadline) { st.stop = "x"; st.n = -Infinity; throw new Error("x"); } }`,
    "user.js": `import {G, st as S} from "./rt.js"; export default function(){ ${loopBody("if (--S.n < 0) G();")} }`,
  },
  D_param: {
    "rt.js": `const st = { stop: null, n: 16 }; const clock = Date.now.bind(Date); let deadline = Infinity;
function slow(){ if (st.stop !== null) throw new Error(st.stop); const n = clock(); st.n = 16; if (n >= deadline) { st.stop = "x"; st.n = -Infinity; throw new Error("x"); } }
export function G(){ if (--st.n < 0) slow(); }`,
    "user.js": `import {G as GG} from "./rt.js"; const inner = function(G){ ${loopBody("G();")} }; export default function(){ return inner(GG); }`,
  },
  E_paramletcall: {
    "rt.js": `let stop = null; let checks = 0; const clock = Date.now.bind(Date); let deadline = Infinity;
export function G(){ if (stop !== null) throw new Error(stop); if ((++checks & 15) !== 0) return; checks--; const n = clock(); checks++; if (n >= deadline) stop = "x"; if (stop !== null) throw new Error(stop); }`,
    "user.js": `import {G as GG} from "./rt.js"; const inner = function(G){ ${loopBody("G();")} }; export default function(){ return inner(GG); }`,
  },
  F_paraminline: {
    "rt.js": `export const st = { stop: null, n: 16 }; const clock = Date.now.bind(Date); let deadline = Infinity;
export function G(){ if (st.stop !== null) throw new Error(st.stop); const n = clock(); st.n = 16; if (n >= deadline) { st.stop = "x"; st.n = -Infinity; throw new Error("x"); } }`,
    "user.js": `import {G as GG, st as SS} from "./rt.js"; const inner = function(G, S){ ${loopBody("if (--S.n < 0) G();")} }; export default function(){ return inner(GG, SS); }`,
  },
  G_local: {
    "rt.js": "export function G(){}",
    "user.js": `export default function(){ let c = 0; const G = () => { if ((++c & 1023) === 0) { Date.now(); } }; ${loopBody("G();")} }`,
  },
  H_localmask15: {
    "rt.js": "export function G(){}",
    "user.js": `export default function(){ let c = 0; let stop = null; const G = () => { if (stop !== null) throw new Error(stop); if ((++c & 15) === 0) { if (Date.now() > 1e15) stop = "x"; } }; ${loopBody("G();")} }`,
  },
  I_rtfactory: {
    "rt.js": `export function makeGuard(){ let c = 0; let stop = null; return () => { if (stop !== null) throw new Error(stop); if ((++c & 15) === 0) { if (Date.now() > 1e15) stop = "x"; } }; }`,
    "user.js": `import {makeGuard} from "./rt.js"; export default function(){ const G = makeGuard(); ${loopBody("G();")} }`,
  },
};

test("probe guard variants", async () => {
  for (let round = 0; round < 2; round++) {
    for (const [name, mods] of Object.entries(variants)) {
      const worker = env.LOADER.load({
        compatibilityDate: "2026-11-01",
        mainModule: "main.js",
        modules: { ...mods, "main.js": `import f from "./user.js"; export default { async fetch() { const t = performance.now(); const s = f(); return new Response(s + " " + (performance.now() - t)); } }` },
        globalOutbound: null,
      });
      const res = await worker.getEntrypoint().fetch("http://x/");
      console.log(name, await res.text());
    }
  }
}, 60_000);
