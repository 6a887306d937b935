/**
 * Command substitutions inside arithmetic (`$(( 3 + $(f) ))`, `(( n += $(wc -l < "$f") ))`) see
 * the shell they appear in, as in GNU bash: its functions, variables, positional parameters and
 * working directory.
 *
 * Why: just-bash evaluates such a substitution as a separate script in a fresh shell (functions,
 * unexported variables and `cd` are gone), so `f: command not found` and a recursive factorial
 * prints 0, and `total=$((total + $(wc -l < "$f")))` adds nothing because `$f` is empty there.
 *
 * How, without touching the user's text: the syntax tree is rewritten so that right before such an
 * arithmetic expression is evaluated, a hidden command (an empty command substitution in the same
 * word, or a statement before `(( ))`) snapshots the shell's variables and directory; the
 * substitution's own script starts with a hidden marker which, when that script is parsed, is
 * replaced by a prologue restoring the snapshot and the functions defined at that moment.
 * Arrays are not carried (just-bash keeps them apart from variables).
 */
import {
  Bash,
  type Command,
  type CommandNode,
  defineCommand,
  InMemoryFs,
  type ScriptNode,
  type StatementNode,
} from "just-bash";

const SNAPSHOT = "__tether_arith_snapshot";
const MARKER = "__tether_arith";
export const ARITH_HIDDEN = [SNAPSHOT, MARKER] as const;

type FunctionDef = Extract<CommandNode, { type: "FunctionDef" }>;

interface Snapshot {
  cwd: string;
  variables: Array<[string, string]>;
  positional: string[];
}

/** Variables a fresh shell sets itself, or refuses to have assigned. */
const NOT_CARRIED = new Set(["SHELLOPTS", "BASHOPTS", "PPID", "UID", "EUID", "BASH_VERSINFO", "PWD", "OLDPWD"]);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

let parser: Bash | undefined;
function parse(source: string): StatementNode[] {
  parser ??= new Bash({ fs: new InMemoryFs(), cwd: "/", commands: [] });
  return parser.transform(source).ast.statements;
}

function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export class ArithSubstitutions {
  readonly commands: Command[];
  private readonly snapshots = new Map<number, Snapshot>();
  private readonly functions: () => FunctionDef[];
  private sites = 0;

  /** `functions()` gives the definitions in force when a substitution runs. */
  constructor(functions: () => FunctionDef[]) {
    this.functions = functions;
    this.commands = [
      defineCommand(SNAPSHOT, async (args, ctx) => {
        const variables: Array<[string, string]> = [];
        const positional: string[] = [];
        for (const [name, value] of ctx.env) {
          if (/^[1-9][0-9]*$/.test(name)) positional[Number(name) - 1] = value;
          else if (NAME.test(name) && !NOT_CARRIED.has(name)) variables.push([name, value]);
        }
        this.snapshots.set(Number(args[0]), {
          cwd: ctx.cwd,
          variables,
          positional: Array.from(positional, (v) => v ?? ""),
        });
        return { stdout: "", stderr: "", exitCode: 0 };
      }),
      defineCommand(MARKER, async () => ({ stdout: "", stderr: "", exitCode: 0 })),
    ];
  }

  /** Rewrites every arithmetic expression under `node` that holds a command substitution. */
  rewrite(node: unknown, seen = new WeakSet<object>()): void {
    if (typeof node !== "object" || node === null || seen.has(node)) return;
    seen.add(node);
    const record = node as Record<string, unknown>;
    if (Array.isArray(record.parts)) record.parts = record.parts.flatMap((part) => this.snapshotBefore(part));
    if (record.type === "Pipeline" && Array.isArray(record.commands)) {
      record.commands = (record.commands as CommandNode[]).map((command) => {
        if (command.type !== "ArithmeticCommand" || !this.markSubstitutions(command.expression)) return command;
        const snapshot = this.snapshotStatement(this.sites);
        const inner = statementOf(command);
        seen.add(inner.pipelines[0] as object);
        return { type: "Group", body: [snapshot, inner], redirections: [], line: command.line } as CommandNode;
      });
    }
    for (const value of Object.values(record)) this.rewrite(value, seen);
  }

  /**
   * The script of a substitution marked by `rewrite`, with its marker replaced by the prologue
   * (functions, variables, positional parameters, directory); any other script is left as is.
   */
  restore(ast: ScriptNode): ScriptNode {
    const first = ast.statements[0]?.pipelines[0]?.commands[0];
    if (first?.type !== "SimpleCommand") return ast;
    const name = first.name?.parts[0];
    if (name?.type !== "Literal" || name.value !== MARKER) return ast;
    const site = first.args[0]?.parts[0];
    const snapshot = site?.type === "Literal" ? this.snapshots.get(Number(site.value)) : undefined;
    const functions = this.functions().map((definition) => statementOf(structuredClone(definition)));
    const setup = snapshot
      ? [
          ...snapshot.variables.map(([variable, value]) => `${variable}=${quote(value)}`),
          `set -- ${snapshot.positional.map(quote).join(" ")}`,
          `cd -- ${quote(snapshot.cwd)} 2>/dev/null`,
        ]
      : [];
    const script = { ...ast, statements: [...functions, ...parse(setup.join("\n")), ...ast.statements.slice(1)] };
    this.rewrite(script);
    return script;
  }

  /** An arithmetic expansion with substitutions gets a snapshot part right before it. */
  private snapshotBefore(part: unknown): unknown[] {
    const candidate = part as { type?: string; expression?: unknown };
    if (candidate.type !== "ArithmeticExpansion" || !this.markSubstitutions(candidate.expression)) return [part];
    const body: ScriptNode = { type: "Script", statements: [this.snapshotStatement(this.sites)] };
    return [{ type: "CommandSubstitution", body, legacy: false }, part];
  }

  /** Marks the substitutions in an arithmetic tree with a new site number; false when it has none. */
  private markSubstitutions(expression: unknown): boolean {
    const found: Array<{ command: string }> = [];
    const walk = (node: unknown): void => {
      if (typeof node !== "object" || node === null) return;
      const record = node as { type?: string; command?: unknown };
      if (record.type === "ArithCommandSubst" && typeof record.command === "string") {
        found.push(record as { command: string });
        return;
      }
      for (const value of Object.values(node)) walk(value);
    };
    walk(expression);
    if (found.length === 0) return false;
    const site = ++this.sites;
    const marker = `${MARKER} ${site}\n`;
    const node = expression as { originalText?: unknown };
    const text = typeof node.originalText === "string" ? node.originalText : undefined;
    // just-bash's arithmetic parser drops the quotes inside a substitution (`$(wc -l < "$f")`
    // becomes `wc -l < $f`): take each one's text from the expression's text instead, and then
    // evaluate the tree (just-bash re-parses the text, dropping them again, when it names a
    // `$variable`).
    const written = text === undefined ? [] : substitutionTexts(text);
    const quoted = written.length === found.length && written.some((w, i) => w !== found[i]?.command);
    for (const [i, substitution] of found.entries())
      substitution.command = marker + (quoted ? (written[i] as string) : substitution.command);
    if (quoted) node.originalText = undefined;
    else if (text !== undefined) node.originalText = text.replace(/\$\((?!\()/g, `$(${marker}`);
    return true;
  }

  private snapshotStatement(site: number): StatementNode {
    return parse(`${SNAPSHOT} ${site}`)[0] as StatementNode;
  }
}

/** The text of each top-level `$(…)` in an arithmetic expression's text, in order (not `$((`). */
function substitutionTexts(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "$" || text[i + 1] !== "(" || text[i + 2] === "(") continue;
    let depth = 0;
    let quote = "";
    for (let j = i + 1; j < text.length; j++) {
      const char = text[j] as string;
      if (quote) {
        if (char === "\\" && quote === '"') j++;
        else if (char === quote) quote = "";
      } else if (char === "'" || char === '"') quote = char;
      else if (char === "\\") j++;
      else if (char === "(") depth++;
      else if (char === ")" && --depth === 0) {
        found.push(text.slice(i + 2, j));
        i = j;
        break;
      }
    }
  }
  return found;
}

function statementOf(command: CommandNode): StatementNode {
  return {
    type: "Statement",
    line: command.line,
    pipelines: [{ type: "Pipeline", commands: [command], negated: false, line: command.line }],
    operators: [],
    background: false,
  } as StatementNode;
}
