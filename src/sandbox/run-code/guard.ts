import {
  type BlockStatement,
  type Function as FunctionNode,
  type Node,
  type Program,
  parse,
  type Statement,
} from "acorn";
import { simple } from "acorn-walk";

/**
 * Deadline guard for run_code. Untrusted code runs in a Dynamic Worker isolate whose CPU limit is
 * enforced in production only (locally one busy loop blocks the whole workerd process), so the
 * code itself is rewritten to call a guard function
 *   - at the top of every loop body (for, for-in, for-of, while, do-while): every back-edge,
 *   - at the entry of every function (declarations, expressions, arrows, methods, accessors,
 *     generators, async functions): bounds recursion and callback-driven loops,
 *   - at the top of every catch clause and finally block: once the guard has fired it keeps
 *     throwing, so `try { while (1) {} } catch {}`, `while (1) { try {} catch {} }` and
 *     `finally { return }` cannot swallow the stop.
 * Insertions never add newlines, so line numbers in stack traces still match the user's code.
 * Refused before anything runs: import/export declarations and import() expressions.
 *
 * Convention: the code is the body of an async function (top-level `await` and `return` work);
 * when the last top-level statement is an expression, its value is returned, like a REPL.
 */

export interface GuardedCode {
  /** The rewritten code, to be placed verbatim as the body of an async function. */
  body: string;
  /** Name of the guard function the body calls; chosen so it does not occur in the user's code. */
  guardName: string;
}

/** The user's code does not parse. `line` is 1-based, `column` 1-based. */
export class CodeSyntaxError extends Error {
  readonly line: number;
  readonly column: number;

  constructor(message: string, line: number, column: number) {
    super(`${message} (line ${line}, column ${column})`);
    this.name = "SyntaxError";
    this.line = line;
    this.column = column;
  }
}

interface Insertion {
  pos: number;
  text: string;
  /** Closers end a wrapped node, openers start one; at one position closers go first. */
  closer: boolean;
  /** Size of the wrapped node: openers outermost first, closers innermost first. */
  span: number;
}

export function guardCode(code: string): GuardedCode {
  const program = parseUserCode(code);
  const guardName = freshName(code);
  const call = `${guardName}();`;
  const edits: Insertion[] = [];

  const atBlockStart = (block: BlockStatement) => {
    edits.push({ pos: block.start + 1, text: call, closer: false, span: block.end - block.start });
  };
  const wrap = (node: Node, open: string, close: string) => {
    const span = node.end - node.start;
    edits.push({ pos: node.start, text: open, closer: false, span });
    edits.push({ pos: node.end, text: close, closer: true, span });
  };
  const loopBody = (loop: { body: Statement }) => {
    if (loop.body.type === "BlockStatement") atBlockStart(loop.body);
    else wrap(loop.body, `{${call}`, "}");
  };
  const functionEntry = (fn: FunctionNode) => {
    if (fn.body.type === "BlockStatement") atBlockStart(fn.body);
    // `x => expr` becomes `x => (guard(), expr)`; an object literal body keeps its own parens.
    else wrap(fn.body, `(${guardName}(), `, ")");
  };

  simple(program, {
    ForStatement: loopBody,
    ForInStatement: loopBody,
    ForOfStatement: loopBody,
    WhileStatement: loopBody,
    DoWhileStatement: loopBody,
    FunctionDeclaration: functionEntry,
    FunctionExpression: functionEntry,
    ArrowFunctionExpression: functionEntry,
    CatchClause: (clause) => atBlockStart(clause.body),
    TryStatement: (statement) => {
      if (statement.finalizer) atBlockStart(statement.finalizer);
    },
  });

  const last = program.body.at(-1);
  if (last?.type === "ExpressionStatement") {
    // `return (` starts with a keyword, so it cannot join the previous line through ASI. A lone
    // string counts too: in a module (always strict) a directive prologue means nothing.
    edits.push({ pos: last.start, text: "return (", closer: false, span: Number.MAX_SAFE_INTEGER });
    edits.push({ pos: last.expression.end, text: ")", closer: true, span: Number.MAX_SAFE_INTEGER });
  }

  return { body: applyInsertions(code, edits), guardName };
}

function parseUserCode(code: string): Program {
  let program: Program;
  try {
    // Module grammar: strict mode and top-level await, like the module the code ends up in.
    program = parse(code, {
      ecmaVersion: "latest",
      sourceType: "module",
      allowReturnOutsideFunction: true,
      allowHashBang: false,
      locations: true,
    });
  } catch (error) {
    throw toCodeSyntaxError(error);
  }
  for (const statement of program.body) {
    if (statement.type.startsWith("Import") || statement.type.startsWith("Export")) {
      throw refuse(
        statement,
        "import/export declarations are not supported: the code is the body of an async function (use `return` for a result)",
      );
    }
  }
  // import() would reach the runtime's built-in modules, `cloudflare:sockets` among them, whose
  // raw TCP connections do not pass through the egress gate's fetch handler.
  simple(program, {
    ImportExpression: (node) => {
      throw refuse(node, "import() is not available in run_code");
    },
  });
  return program;
}

function refuse(node: Node, message: string): CodeSyntaxError {
  return new CodeSyntaxError(message, node.loc?.start.line ?? 1, (node.loc?.start.column ?? 0) + 1);
}

function toCodeSyntaxError(error: unknown): Error {
  if (error instanceof SyntaxError && "loc" in error) {
    const loc = error.loc as { line: number; column: number } | undefined;
    // acorn appends " (line:column)" to its messages; the location is reported our own way.
    const message = error.message.replace(/ \(\d+:\d+\)$/, "");
    return new CodeSyntaxError(message, loc?.line ?? 1, (loc?.column ?? 0) + 1);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** A guard name that is not a substring of the code, so the code cannot shadow or reassign it. */
function freshName(code: string): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(6));
    const name = `__tetherGuard_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    if (!code.includes(name)) return name;
  }
}

function applyInsertions(code: string, edits: Insertion[]): string {
  edits.sort((a, b) => {
    if (a.pos !== b.pos) return a.pos - b.pos;
    if (a.closer !== b.closer) return a.closer ? -1 : 1;
    return a.closer ? a.span - b.span : b.span - a.span;
  });
  let out = "";
  let at = 0;
  for (const edit of edits) {
    out += code.slice(at, edit.pos) + edit.text;
    at = edit.pos;
  }
  return out + code.slice(at);
}
