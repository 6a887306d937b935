/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests of what the edge
 * serves scrapers. Stricter than Prometheus itself where the format says "must": every line ends
 * with a line feed, HELP and TYPE at most once per family and before its samples, a family's
 * lines never interleaved with another's, only the three escapes in label values (\\ \" \n),
 * valid metric and label names, no label twice in a sample, no series twice, and for gauges and
 * counters the sample name equal to the family name. Any violation throws with the line number.
 */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string | null;
  type: string;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, string[]> = {
  summary: ["", "_sum", "_count"],
  histogram: ["_bucket", "_sum", "_count"],
};

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: string | null = null;
  const lines = text.split("\n").slice(0, -1);

  const enter = (name: string, line: number): ParsedFamily => {
    if (current !== name) {
      if (current !== null) finished.add(current);
      if (finished.has(name)) throw new Error(`line ${line}: family ${name} continues after another family`);
      current = name;
    }
    let family = families.get(name);
    if (!family) {
      family = { name, help: null, type: "untyped", samples: [] };
      families.set(name, family);
    }
    return family;
  };

  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (!match) return; // an ordinary comment
      const [, keyword, name = "", rest = ""] = match;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: invalid metric name ${JSON.stringify(name)}`);
      const family = enter(name, line);
      if (keyword === "HELP") {
        if (family.help !== null) throw new Error(`line ${line}: second HELP for ${name}`);
        family.help = unescapeHelp(rest);
      } else {
        if (family.samples.length > 0 || typed.has(name)) {
          throw new Error(`line ${line}: TYPE for ${name} after its samples or twice`);
        }
        if (!TYPES.has(rest.trim())) throw new Error(`line ${line}: unknown type ${JSON.stringify(rest)}`);
        family.type = rest.trim();
        typed.add(name);
      }
      return;
    }
    const sample = parseSample(raw, line);
    const familyName = familyOf(sample.name, families);
    const family = enter(familyName, line);
    const allowed = SUFFIXES[family.type] ?? [""];
    if (!allowed.some((suffix) => sample.name === `${familyName}${suffix}`)) {
      throw new Error(`line ${line}: sample ${sample.name} does not belong to ${family.type} ${familyName}`);
    }
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) throw new Error(`line ${line}: series ${key} appears twice`);
    series.add(key);
    family.samples.push(sample);
  });
  return families;
}

/** The family a sample belongs to: its own name, or a summary's/histogram's base name. */
function familyOf(name: string, families: Map<string, ParsedFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && (families.get(base)?.type ?? "") in SUFFIXES) return base;
  }
  return name;
}

function parseSample(raw: string, line: number): ParsedSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
  if (!nameMatch) throw new Error(`line ${line}: no metric name in ${JSON.stringify(raw)}`);
  const name = nameMatch[0];
  let rest = raw.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    for (;;) {
      if (rest.startsWith("}")) break;
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest);
      if (!label?.[1]) throw new Error(`line ${line}: malformed label in ${JSON.stringify(raw)}`);
      const labelName = label[1];
      if (!LABEL_NAME.test(labelName) || labelName in labels) {
        throw new Error(`line ${line}: label ${labelName} invalid or repeated`);
      }
      rest = rest.slice(label[0].length);
      let value = "";
      let closed = false;
      while (rest.length > 0) {
        const char = rest[0];
        if (char === "\\") {
          const next = rest[1];
          if (next === "\\" || next === '"') value += next;
          else if (next === "n") value += "\n";
          else throw new Error(`line ${line}: invalid escape \\${next ?? ""} in a label value`);
          rest = rest.slice(2);
        } else if (char === '"') {
          rest = rest.slice(1);
          closed = true;
          break;
        } else {
          value += char;
          rest = rest.slice(1);
        }
      }
      if (!closed) throw new Error(`line ${line}: unterminated label value`);
      labels[labelName] = value;
      if (rest.startsWith(",")) rest = rest.slice(1);
      else if (!rest.startsWith("}")) throw new Error(`line ${line}: expected , or } after a label`);
    }
    rest = rest.slice(1);
  }
  const valueMatch = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!valueMatch?.[1]) throw new Error(`line ${line}: expected " value [timestamp]" in ${JSON.stringify(raw)}`);
  return { name, labels, value: parseValue(valueMatch[1], line) };
}

function parseValue(text: string, line: number): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: invalid value ${text}`);
  return Number(text);
}

/** HELP text allows \\ and \n; any other backslash stays as it is (the format says so). */
function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_match, char: string) => (char === "n" ? "\n" : "\\"));
}
