/**
 * `printf` rounding `%.Nf` as GNU bash does: bash formats the number's exact binary value with the
 * C library, which rounds an exact tie to even (`printf '%.0f' 0.5 2.5` prints `0 2`, and
 * `%.1f` of 0.25 is `0.2`); just-bash rounds ties away from zero. Each argument an `f`/`F`
 * conversion takes is handed to just-bash's printf already rounded; everything else is as given.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const CONVERSION = /%(?:%|[-+ #0']*(\*|\d+)?(?:\.(\*|\d*))?[hlLqjzt]*([a-zA-Z]))/g;

/** `x` with `digits` decimals, an exact tie rounded to even; undefined when toFixed is already right. */
export function roundHalfEven(x: number, digits: number): string | undefined {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21 || digits > 100) return undefined;
  if (!isExactTie(Math.abs(x), digits)) return undefined;
  const fixed = Math.abs(x).toFixed(digits); // the tie rounded up
  const scaled = BigInt(fixed.replace(".", ""));
  const even = scaled % 2n === 0n ? scaled : scaled - 1n;
  const text = even.toString().padStart(digits + 1, "0");
  const body = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return (x < 0 || Object.is(x, -0) ? "-" : "") + body;
}

/** True when x·10^digits lies exactly halfway between two integers (x ≥ 0, finite). */
function isExactTie(x: number, digits: number): boolean {
  if (x === 0) return false;
  // x = mantissa · 2^exponent exactly, from the IEEE 754 bits.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  if (exponent >= 0) return false; // an integer: no fractional part at all
  // 2 · x · 10^digits = 2 · mantissa · 10^digits / 2^-exponent must be an odd integer.
  const numerator = 2n * mantissa * 10n ** BigInt(digits);
  const denominator = 1n << BigInt(-exponent);
  return numerator % denominator === 0n && (numerator / denominator) % 2n === 1n;
}

export const printfCommand: Command = defineCommand("printf", async (args, ctx) => {
  const formatAt = args[0] === "--" ? 1 : 0;
  const format = args[formatAt];
  if (format === undefined || args[0] === "-v") return original(ctx, args);
  const conversions = [...format.matchAll(CONVERSION)].filter((m) => m[0] !== "%%");
  if (!conversions.some((m) => m[3] === "f" || m[3] === "F")) return original(ctx, args);
  const rewritten = [...args];
  let at = formatAt + 1;
  // The format is reused while arguments remain, as printf does.
  while (at < args.length) {
    for (const [, width, precision, conversion] of conversions) {
      if (width === "*") at++;
      let digits = precision === undefined ? 6 : precision === "" ? 0 : Number(precision);
      if (precision === "*") digits = Number(args[at++] ?? 0);
      if (at >= args.length) break;
      if (conversion === "f" || conversion === "F") {
        const value = args[at] as string;
        const rounded = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)
          ? roundHalfEven(Number(value), digits)
          : undefined;
        if (rounded !== undefined) rewritten[at] = rounded;
      }
      at++;
    }
    if (conversions.length === 0) break;
  }
  return original(ctx, rewritten);
});
