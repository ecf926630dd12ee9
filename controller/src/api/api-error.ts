// Every failure the API server returns is a metav1.Status with a stable `reason`: kubectl
// prints its message, client-node callers and our CLI branch on `code`/`reason`.
import type { FieldError } from "../../../schemas/validate.js";

export interface StatusCause {
  field?: string;
  message: string;
  reason: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}

export interface MetaStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  code: number;
  details?: StatusDetails;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  /** Answer with `Connection: close` and drop the connection instead of reading what is left of the request. */
  closeConnection = false;
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): MetaStatus {
    const status: MetaStatus = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: this.message, reason: this.reason, code: this.code };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** What an error message needs to name the object: `gameservers.zerolaghub.dev "mc1"`. */
export interface Subject {
  group: string;
  plural: string;
  kind: string;
  name: string;
}

function qualified(s: Subject): string {
  return s.group ? `${s.plural}.${s.group}` : s.plural;
}

function details(s: Subject, extra?: Partial<StatusDetails>): StatusDetails {
  return { name: s.name, group: s.group, kind: s.plural, ...extra };
}

function causeReason(message: string): string {
  if (message === "required field is missing") return "FieldValueRequired";
  if (message.startsWith("duplicate")) return "FieldValueDuplicate";
  if (message.startsWith("must be one of")) return "FieldValueNotSupported";
  return "FieldValueInvalid";
}

export const apiErrors = {
  badRequest: (message: string) => new ApiError(400, "BadRequest", message),
  unauthorized: () => Object.assign(new ApiError(401, "Unauthorized", "Unauthorized"), { closeConnection: true }),
  notFound: (s: Subject) => new ApiError(404, "NotFound", `${qualified(s)} "${s.name}" not found`, details(s)),
  pathNotFound: (path: string) => new ApiError(404, "NotFound", `the server could not find the requested resource (${path})`),
  methodNotAllowed: (method: string, what: string) => new ApiError(405, "MethodNotAllowed", `method ${method} is not supported on ${what}`),
  alreadyExists: (s: Subject) => new ApiError(409, "AlreadyExists", `${qualified(s)} "${s.name}" already exists`, details(s)),
  conflict: (s: Subject, why: string) => new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(s)} "${s.name}": ${why}`, details(s)),
  notAcceptable: (accept: string, offered: string) => new ApiError(406, "NotAcceptable", `only ${offered} is served here; the request accepts ${accept || "nothing"}`),
  expired: (message: string) => new ApiError(410, "Expired", message),
  tooLarge: (limit: number) => new ApiError(413, "RequestEntityTooLarge", `Request entity too large: the request body is limited to ${limit} bytes`),
  unsupportedMediaType: (contentType: string, accepted: readonly string[]) =>
    new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format (${contentType || "none"}); accepted media types include: ${accepted.join(", ")}`),
  /** 422 with one cause per failing field, e.g. `GameServer "mc1" is invalid: .spec.ports[1].port: duplicate port 25565`. */
  invalid: (s: Subject, errors: FieldError[]) =>
    new ApiError(
      422,
      "Invalid",
      `${s.kind} "${s.name}" is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
      details(s, { kind: s.kind, causes: errors.map((e) => ({ field: e.path, message: e.message, reason: causeReason(e.message) })) }),
    ),
  internal: (message: string) => new ApiError(500, "InternalError", message),
};
