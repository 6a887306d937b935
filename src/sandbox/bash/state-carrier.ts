/**
 * Carries shell state across just-bash execs (which each start a fresh shell) without touching the
 * user's text: the command is parsed as written, and this transform works on its syntax tree.
 *
 *  - prologue: the kept functions are defined again (from their stored syntax trees) and, when the
 *    last command failed, a hidden command returns its exit status, so `$?` starts where the last
 *    command left it (a fresh shell starts at 0 anyway);
 *  - every function definition in the user's command (and inside kept functions' bodies) is
 *    followed by a hidden marker, so the carrier knows which definition of a name ran last
 *    (just-bash cannot print function bodies back). The kept definitions themselves need none:
 *    a name with no marker that ran keeps the definition it came in with;
 *  - epilogue: a hidden command reads the working directory, the exported variables and the
 *    defined function names from inside the shell, and records the user's exit status.
 *
 * Hidden commands print nothing, so nothing leaks into the user's output. A command that ends the
 * shell early (`exit`, `set -e`, a limit) never reaches the epilogue: `captured` stays null.
 * One carrier serves one run; nested shells (`bash -c`, xargs) are left untouched.
 *
 * Cost: each hidden command is a full command dispatch in just-bash (~0.3 ms in workerd), so the
 * carrier adds as few as it can: the epilogue always, the status only after a failure, and
 * markers only where a definition runs in this command.
 */
import {
  Bash,
  type Command,
  type CommandNode,
  defineCommand,
  InMemoryFs,
  type ScriptNode,
  type StatementNode,
  type TransformPlugin,
} from "just-bash";
import { ARITH_HIDDEN, ArithSubstitutions } from "./arith-substitution.ts";
import { EXIT_TRAP, ExitTraps } from "./exit-trap.ts";

type FunctionDef = Extract<CommandNode, { type: "FunctionDef" }>;

const CAPTURE = "__tether_capture";
const DEFINED = "__tether_defined";
const STATUS = "__tether_status";
const HIDDEN = new Set([CAPTURE, DEFINED, STATUS]);

export interface Captured {
  exitCode: number;
  cwd: string;
  env: Record<string, string>;
  functionNames: string[];
  /** The command had no statements (only blanks or comments). */
  empty: boolean;
}

export interface CarriedIn {
  functions: Record<string, unknown>;
  lastExitCode: number;
}

const OK = { stdout: "", stderr: "", exitCode: 0 };

/**
 * The hidden statements, parsed once per isolate. just-bash's browser build (the one a Worker
 * gets) does not export its parser, but every Bash instance can parse; this one has no commands.
 */
let templates:
  | { status: StatementNode; defined: StatementNode; capture: StatementNode; exitTrap: StatementNode }
  | undefined;

function hidden(): NonNullable<typeof templates> {
  if (!templates) {
    const parser = new Bash({ fs: new InMemoryFs(), cwd: "/", commands: [] });
    const parse = (line: string) => parser.transform(line).ast.statements[0] as StatementNode;
    templates = {
      status: parse(`${STATUS} 0`),
      defined: parse(`${DEFINED} 0`),
      capture: parse(`${CAPTURE} "$?" "$(declare -F)"`),
      exitTrap: parse(`eval "$(${EXIT_TRAP})"`),
    };
  }
  return templates;
}

/** A copy of a one-word-argument template statement with its argument replaced. */
function withArgument(template: StatementNode, argument: number): StatementNode {
  const statement = structuredClone(template);
  const command = statement.pipelines[0]?.commands[0];
  const part = command?.type === "SimpleCommand" ? command.args[0]?.parts[0] : undefined;
  if (part?.type !== "Literal") throw new Error("unexpected template shape");
  part.value = String(argument);
  return statement;
}

export class StateCarrier {
  readonly commands: Command[];
  readonly plugin: TransformPlugin;
  captured: Captured | null = null;

  private readonly carriedIn: CarriedIn;
  private armed = true;
  private userStatements = 0;
  /** Pristine copy of every definition in this run's script, by marker id. */
  private readonly definitions: FunctionDef[] = [];
  /** The definition of each name that ran most recently. */
  private readonly defined = new Map<string, FunctionDef>();
  private readonly arith = new ArithSubstitutions(() => this.inForce());
  readonly traps = new ExitTraps(() => this.captured?.exitCode ?? 0);

  constructor(carriedIn: CarriedIn) {
    this.carriedIn = carriedIn;
    this.commands = [
      ...this.arith.commands,
      ...this.traps.commands,
      defineCommand(STATUS, async (args) => ({ ...OK, exitCode: Number(args[0]) || 0 })),
      defineCommand(DEFINED, async (args) => {
        const definition = this.definitions[Number(args[0])];
        if (definition) this.defined.set(definition.name, definition);
        return OK;
      }),
      defineCommand(CAPTURE, async (args, ctx) => {
        this.captured = {
          exitCode: Number(args[0]) || 0,
          cwd: ctx.cwd,
          env: { ...ctx.exportedEnv },
          functionNames: (args[1] ?? "")
            .split("\n")
            .map((line) => line.replace(/^declare -f /, ""))
            .filter((name) => name !== "" && !HIDDEN.has(name)),
          empty: this.userStatements === 0,
        };
        return OK;
      }),
    ];
    // Nested scripts run as written, except command substitutions inside arithmetic, which get
    // the calling shell's state (arith-substitution.ts).
    this.plugin = {
      name: "tether-state",
      transform: ({ ast }) => ({ ast: this.armed ? this.wrap(ast) : this.arith.restore(ast) }),
    };
  }

  /** Functions to keep: every name still defined, with the body of its latest definition. */
  functions(): { kept: Record<string, unknown>; unknown: string[] } {
    const kept: Record<string, unknown> = {};
    const unknown: string[] = [];
    for (const name of this.captured?.functionNames ?? []) {
      const definition = this.defined.get(name) ?? this.carriedIn.functions[name];
      if (definition) kept[name] = definition;
      else unknown.push(name); // defined by eval or source: its text never passed through here
    }
    return { kept, unknown };
  }

  /** The definitions in force now: those carried in, replaced by any that ran since. */
  private inForce(): FunctionDef[] {
    const byName = new Map(Object.entries(this.carriedIn.functions) as Array<[string, FunctionDef]>);
    for (const [name, definition] of this.defined) byName.set(name, definition);
    return [...byName.values()];
  }

  private wrap(ast: ScriptNode): ScriptNode {
    this.armed = false; // only the top-level script; nested shells run as written
    this.userStatements = ast.statements.length;
    const { status, capture, exitTrap } = hidden();
    const seen = new WeakSet<object>();
    const carried = Object.values(this.carriedIn.functions).map((stored) => {
      const definition = structuredClone(stored) as FunctionDef;
      this.markDefinitions(definition, seen); // definitions nested in its body still get markers
      return statementOf(definition);
    });
    const lastExitCode = this.carriedIn.lastExitCode;
    for (const statement of ast.statements) this.markDefinitions(statement, seen);
    // After the markers: the definitions kept for later calls are copies taken before this.
    this.arith.rewrite(carried);
    this.arith.rewrite(ast.statements);
    return {
      ...ast,
      statements: [
        ...carried,
        ...(lastExitCode !== 0 ? [withArgument(status, lastExitCode)] : []),
        ...ast.statements,
        structuredClone(capture),
        // Only where `trap` may run: each hidden statement costs a command dispatch.
        ...(JSON.stringify([ast.statements, carried]).includes('"value":"trap"') ? [structuredClone(exitTrap)] : []),
      ],
    };
  }

  /** Pre-order walk: each definition is copied before anything inside it is rewritten. */
  private markDefinitions(node: unknown, seen: WeakSet<object>): void {
    if (typeof node !== "object" || node === null || seen.has(node)) return;
    seen.add(node);
    if (isPipeline(node)) {
      node.commands = node.commands.map((command) => {
        if (command.type !== "FunctionDef") return command;
        const id = this.definitions.push(structuredClone(command)) - 1;
        const definition = statementOf(command);
        seen.add(definition.pipelines[0] as object); // do not wrap this definition again
        this.markDefinitions(command, seen);
        const marker = withArgument(hidden().defined, id);
        return { type: "Group", body: [definition, marker], redirections: [], line: command.line } as CommandNode;
      });
    }
    for (const value of Object.values(node)) this.markDefinitions(value, seen);
  }
}

function isPipeline(node: object): node is { type: "Pipeline"; commands: CommandNode[] } {
  return (node as { type?: unknown }).type === "Pipeline" && Array.isArray((node as { commands?: unknown }).commands);
}

function statementOf(command: CommandNode): StatementNode {
  return {
    type: "Statement",
    line: command.line,
    pipelines: [{ type: "Pipeline", commands: [command], negated: false, line: command.line }],
    operators: [],
    background: false,
  };
}

/**
 * Removes the hidden commands' own lines from an xtrace (`set -x`) trail, so even a traced command
 * shows only what the user ran: the definition markers and arithmetic snapshots, and the epilogue at the end (nothing runs
 * after it, so everything from its first traced line on is its own).
 */
const MARKER_TRACE = new RegExp(`^\\++ (?:${DEFINED}|${ARITH_HIDDEN[0]}) \\d+\\n`, "gm");
const EPILOGUE_TRACE = new RegExp(`(?:^|\\n)(\\++ declare -F\\n\\++ ${CAPTURE} [\\s\\S]*)$`);

export function stripHiddenTrace(stderr: string): string {
  if (!stderr.includes("+ __tether_")) return stderr;
  const withoutMarkers = stderr.replace(MARKER_TRACE, "");
  const match = EPILOGUE_TRACE.exec(withoutMarkers);
  return match?.[1] === undefined ? withoutMarkers : withoutMarkers.slice(0, withoutMarkers.length - match[1].length);
}
