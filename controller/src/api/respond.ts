// Writing responses: every body is JSON with Content-Type application/json (client-node
// refuses to parse a body without it), every error a metav1.Status.
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { StoreError } from "../store/store.js";
import { SelectorError } from "../store/label-selector.js";
import { ApiError, apiErrors } from "./api-error.js";

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

const STORE_CODES: Record<StoreError["reason"], [number, string]> = {
  NotFound: [404, "NotFound"],
  AlreadyExists: [409, "AlreadyExists"],
  Conflict: [409, "Conflict"],
  Expired: [410, "Expired"],
  StorageFull: [507, "InsufficientStorage"],
  Unavailable: [503, "ServiceUnavailable"],
};

/** Maps any thrown value to a Status: ApiError as is, store/selector errors by reason, the rest 500. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof SelectorError) return apiErrors.badRequest(err.message);
  if (err instanceof StoreError) {
    const [code, reason] = STORE_CODES[err.reason];
    return new ApiError(code, reason, err.message);
  }
  return apiErrors.internal("internal error");
}

export function sendError(res: ServerResponse, err: unknown, logger: Logger): void {
  const apiError = toApiError(err);
  if (apiError.code >= 500) logger.error({ err }, "request failed");
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An unauthenticated (or hopelessly large) body may still be arriving: close instead of reading it.
  if (apiError.closeConnection) res.setHeader("Connection", "close");
  sendJson(res, apiError.code, apiError.toStatus());
}
