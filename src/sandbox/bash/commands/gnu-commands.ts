/**
 * Commands that replace or wrap just-bash's own where its output differs from GNU's in everyday
 * use. Each wrapper handles only the forms it fixes and hands everything else to just-bash's
 * command. The fidelity corpus (test/fixtures/bash-corpus.ts) shows what each one changes.
 */
import type { Command } from "just-bash";
import { cmpCommand } from "./cmp.ts";
import { diffCommand } from "./diff.ts";
import { findCommand } from "./find.ts";
import { grepCommand } from "./grep.ts";
import { headCommand } from "./head.ts";
import { jqCommand } from "./jq.ts";
import { lsCommand } from "./ls.ts";
import { pasteCommand } from "./paste.ts";
import { printfCommand } from "./printf.ts";
import { realpathCommand } from "./realpath.ts";
import { sedCommand } from "./sed.ts";
import { sortCommand } from "./sort.ts";
import { touchCommand } from "./touch.ts";
import { uniqCommand } from "./uniq.ts";
import { wcCommand } from "./wc.ts";
import { whichCommand } from "./which.ts";
import { xargsCommand } from "./xargs.ts";

export const GNU_COMMANDS: readonly Command[] = [
  cmpCommand,
  diffCommand,
  findCommand,
  grepCommand,
  headCommand,
  jqCommand,
  lsCommand,
  pasteCommand,
  printfCommand,
  realpathCommand,
  sedCommand,
  sortCommand,
  touchCommand,
  uniqCommand,
  wcCommand,
  whichCommand,
  xargsCommand,
];
