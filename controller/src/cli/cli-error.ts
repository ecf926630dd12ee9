// Expected failures (bad input, server refusals, timeouts) are CliErrors: main prints their
// message alone, without a stack, and exits 1. Anything else is a bug and keeps its stack.

/** Stable reasons a script may match on; the message is for the operator. */
export type CliErrorReason =
  | "InvalidManifest"
  | "InvalidArgument"
  | "NoServer"
  | "CertificateMismatch"
  | "Unauthorized"
  | "NotFound"
  | "Invalid"
  | "Conflict"
  | "ServerError"
  | "Timeout"
  | "ResourceError";

export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly reason: CliErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export function isCliError(e: unknown): e is CliError {
  return e instanceof CliError;
}
