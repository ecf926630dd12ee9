// Reads and parses request bodies with a hard size limit, so one oversized or malformed
// request costs a bounded amount of memory and yields a Status, never a crash or a reset.
import type { IncomingMessage } from "node:http";
import { ApiError, apiErrors } from "./api-error.js";
import { MAX_JSON_DEPTH, jsonTextDepth } from "./json-limits.js";

export const MAX_BODY_BYTES = 1024 * 1024;
// An oversized body is answered with 413 at once and the rest is read and thrown away, so
// the client (still sending) sees the Status rather than a reset. Past this much discarded
// input the connection is dropped instead.
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

function discardRest(req: IncomingMessage, alreadyRead: number): void {
  let drained = alreadyRead;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy();
  });
  req.resume();
}

function tooLarge(limit: number, closeConnection: boolean): ApiError {
  const e = apiErrors.tooLarge(limit);
  e.closeConnection = closeConnection;
  return e;
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      discardRest(req, 0);
      reject(tooLarge(limit, declared > MAX_DRAIN_BYTES));
      return;
    }
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData);
      req.off("end", onEnd);
      chunks.length = 0;
      discardRest(req, size);
      reject(tooLarge(limit, false));
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", (e) => reject(e));
  });
}

/** Parses a JSON body; an empty body is `undefined` (DELETE without options). Nesting deeper than MAX_JSON_DEPTH is a 400. */
export function parseJson(raw: Buffer): unknown {
  const depth = jsonTextDepth(raw);
  if (depth > MAX_JSON_DEPTH) throw apiErrors.badRequest(`the request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  const text = raw.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ApiError(400, "BadRequest", `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** POST/PUT bodies must be JSON; a missing Content-Type is taken as JSON. */
export function requireJson(contentType: string | undefined): void {
  const type = mediaType(contentType);
  if (type !== "" && type !== "application/json") throw apiErrors.unsupportedMediaType(type, ["application/json"]);
}
