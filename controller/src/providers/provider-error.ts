// The one error type providers throw. Reconcilers turn `reason` into a condition reason and a
// metric label, and show `message` to the operator, so the message names the record, file or
// field that failed.

export type ProviderErrorReason =
  /** The desired object breaks a rule of the backend (bad name, schema violation). */
  | "Invalid"
  /** Something already there blocks the change (foreign object, taken vmid, CNAME clash). */
  | "Conflict"
  /** The object the call names does not exist. */
  | "NotFound"
  /** The backend's own data could not be read (file:line says where). */
  | "ParseError"
  /** The backend did not answer or refused for a reason of its own (I/O, injected failure). */
  | "Unavailable";

export class ProviderError extends Error {
  override readonly name = "ProviderError";

  constructor(
    readonly reason: ProviderErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/** Wraps an I/O error so it crosses the boundary with a reason and the path it concerns. */
export function ioError(action: string, path: string, err: unknown): ProviderError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  return new ProviderError("Unavailable", `${action} ${path}: ${code ?? detail}`, { cause: err });
}
