/**
 * A command line that cannot run as given (a missing or malformed flag): main.ts prints the message
 * with a pointer to the command's --help and exits 2, where any other failure exits 1.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
