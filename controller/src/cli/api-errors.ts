// Translates what client-node throws into CliErrors a person can act on: the server's
// metav1.Status (reason, message, causes) when there is one, "no zlh server" when the
// socket never opened.
import { ApiException } from "@kubernetes/client-node";
import { CliError } from "./cli-error.js";
import { noServerHint, type Connection } from "./connection.js";

export interface StatusCause {
  field?: string;
  message?: string;
  reason?: string;
}

export interface ApiStatus {
  code: number;
  reason?: string;
  message?: string;
  causes: StatusCause[];
}

const CONNECT_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]);

/** The HTTP status and parsed Status body of an API error, or undefined for anything else. */
export function apiStatus(e: unknown): ApiStatus | undefined {
  if (!(e instanceof ApiException)) return undefined;
  const code = Number(e.code);
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
    if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
  } catch {
    if (typeof e.body === "string" && e.body.trim()) body = { message: e.body.trim() };
  }
  const details = body.details as { causes?: StatusCause[] } | undefined;
  return {
    code,
    reason: typeof body.reason === "string" ? body.reason : undefined,
    message: typeof body.message === "string" ? body.message : undefined,
    causes: Array.isArray(details?.causes) ? details.causes : [],
  };
}

export function isNotFound(e: unknown): boolean {
  return apiStatus(e)?.code === 404;
}


/** True when the request never reached an HTTP answer (refused, reset, DNS failure). */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; errno?: unknown; type?: unknown; cause?: { code?: unknown } } | null;
  if (!err || typeof err !== "object" || e instanceof ApiException) return false;
  const code = typeof err.code === "string" ? err.code : typeof err.cause?.code === "string" ? err.cause.code : "";
  return CONNECT_ERRORS.has(code) || err.type === "system";
}

// OpenSSL's verification failures: the server is up but is not the one the kubeconfig pins.
const CERTIFICATE_ERRORS = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/** True when TLS verification refused the server's certificate. */
export function isCertificateError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && CERTIFICATE_ERRORS.test(code);
}

/** `.spec.ports[1].port: duplicate port`, one line per cause, for a 422. */
export function formatCauses(causes: readonly StatusCause[]): string[] {
  return causes.map((c) => `  ${c.field ?? "."}: ${c.message ?? c.reason ?? "invalid"}`);
}

/**
 * A CliError for `e`, prefixed with what was being done (`gameserver.zerolaghub.dev/mc1`).
 * Unknown errors are returned unchanged: they are bugs and should keep their stack.
 */
export function toCliError(e: unknown, conn: Connection, subject?: string): unknown {
  if (e instanceof CliError) return e;
  if (isCertificateError(e)) {
    return new CliError("CertificateMismatch", `the server at ${conn.server} does not present the certificate ${conn.kubeconfigPath} pins (${(e as { code: string }).code}); is it another zlh server, or was the data directory replaced?`);
  }
  if (isConnectionError(e)) return new CliError("NoServer", noServerHint(conn.server));
  const st = apiStatus(e);
  if (!st) return e;
  const prefix = subject ? `${subject}: ` : "";
  const detail = st.message ?? st.reason ?? "no details";
  switch (st.code) {
    case 401:
      return new CliError("Unauthorized", `unauthorized: ${conn.server} rejected the token in ${conn.kubeconfigPath}`);
    case 404:
      return new CliError("NotFound", `${prefix}not found${st.message ? ` (${st.message})` : ""}`);
    case 409:
      return new CliError("Conflict", `${prefix}conflict: ${detail}`);
    case 422:
      return new CliError("Invalid", [`${prefix}rejected by the server (${st.reason ?? "Invalid"}): ${detail}`, ...formatCauses(st.causes)].join("\n"));
    default:
      return new CliError("ServerError", `${prefix}server answered ${st.code}${st.reason ? ` ${st.reason}` : ""}: ${detail}`);
  }
}
