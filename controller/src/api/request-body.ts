// Reads and parses request bodies with a hard size limit, so one oversized or malformed
// request costs a bounded amount of memory and yields a Status, never a crash.
import type { IncomingMessage } from "node:http";
import { ApiError, apiErrors } from "./api-error.js";

export const MAX_BODY_BYTES = 1024 * 1024;
// Past this much discarded input the connection is dropped instead of drained.
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
      else if (size > MAX_DRAIN_BYTES) {
        reject(apiErrors.tooLarge(limit));
        req.destroy();
      }
    });
    req.on("end", () => (over ? reject(apiErrors.tooLarge(limit)) : resolve(Buffer.concat(chunks))));
    req.on("error", (e) => reject(e));
  });
}

/** Parses a JSON body; an empty body is `undefined` (DELETE without options). */
export function parseJson(raw: Buffer): unknown {
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
