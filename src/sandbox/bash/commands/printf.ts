/**
 * `printf` rounding `%.Nf` as GNU bash does: bash reads the number as a `long double` and the C
 * library rounds its exact binary value, an exact tie to even (`printf '%.0f' 0.5 2.5` prints
 * `0 2`, `%.1f` of 0.25 is `0.2`, `%.3f` of 1.0005 is `1.001`); just-bash rounds ties away from
 * zero, from a double. Each argument an `f`/`F`
 * conversion takes is handed to just-bash's printf already rounded; everything else is as given.
 */
import { type Command, defineCommand } from "just-bash";
import { original } from "./command-io.ts";

const CONVERSION = /%(?:%|[-+ #0']*(\*|\d+)?(?:\.(\*|\d*))?[hlLqjzt]*([a-zA-Z]))/g;

/**
 * A decimal number's text with `digits` decimals, as bash's printf prints it: bash reads the
 * number as a C `long double` (x86: a 64-bit mantissa), and the C library rounds that exact
 * binary value, an exact tie to even. Both steps are done here in exact integer arithmetic.
 * Undefined for text that is not a plain decimal number.
 */
export function roundLikeBash(text: string, digits: number): string | undefined {
  const match = /^\s*([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?\s*$/.exec(text);
  if (!match || digits > 100) return undefined;
  const [, sign = "", whole = "", fraction = "", exponentText = "0"] = match;
  if (whole === "" && fraction === "") return undefined;
  const exponent = Number(exponentText) - fraction.length;
  if (Math.abs(exponent) > 400) return undefined;
  // value = numerator / denominator exactly
  let numerator = BigInt(`${whole}${fraction}` || "0");
  let denominator = 1n;
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator = 10n ** BigInt(-exponent);
  const negative = sign === "-";
  if (numerator === 0n) return formatScaled(0n, digits, negative);
  // Round to a 64-bit mantissa: value ≈ mantissa · 2^-shift with 2^63 ≤ mantissa < 2^64.
  let shift = 63 - (numerator.toString(2).length - denominator.toString(2).length);
  const scaled = (s: number) =>
    s >= 0 ? [numerator << BigInt(s), denominator] : [numerator, denominator << BigInt(-s)];
  let [top, bottom] = scaled(shift) as [bigint, bigint];
  if (top / bottom >= 1n << 64n) [top, bottom] = scaled(--shift) as [bigint, bigint];
  else if (top / bottom < 1n << 63n) [top, bottom] = scaled(++shift) as [bigint, bigint];
  const mantissa = divideHalfEven(top, bottom);
  // Then to `digits` decimals: mantissa · 10^digits / 2^shift, a tie to even.
  const [outTop, outBottom] =
    shift >= 0
      ? [mantissa * 10n ** BigInt(digits), 1n << BigInt(shift)]
      : [(mantissa << BigInt(-shift)) * 10n ** BigInt(digits), 1n];
  return formatScaled(divideHalfEven(outTop, outBottom), digits, negative);
}

function divideHalfEven(top: bigint, bottom: bigint): bigint {
  const quotient = top / bottom;
  const twice = 2n * (top % bottom);
  if (twice > bottom || (twice === bottom && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

function formatScaled(value: bigint, digits: number, negative: boolean): string {
  const text = value.toString().padStart(digits + 1, "0");
  const body = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return (negative ? "-" : "") + body;
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
        const rounded = roundLikeBash(args[at] as string, digits);
        if (rounded !== undefined) rewritten[at] = rounded;
      }
      at++;
    }
    if (conversions.length === 0) break;
  }
  return original(ctx, rewritten);
});
