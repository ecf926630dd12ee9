// Size caps that keep every stored object writable. A status write carries the whole
// object, so an object whose spec and metadata filled the request limit could never get a
// status (it would sit Pending, every status write a 413). Capping the object without its
// status, and the status on its own, keeps their sum under the request limit.
import type { FieldError } from "../../../schemas/validate.js";
import type { StoredObject } from "../store/store.js";
import { MAX_BODY_BYTES } from "./request-body.js";

/** Metadata + spec (everything but status), as stored. */
export const MAX_OBJECT_BYTES = MAX_BODY_BYTES / 2;
/** The status alone. With MAX_OBJECT_BYTES this leaves a quarter of the request limit spare. */
export const MAX_STATUS_BYTES = MAX_BODY_BYTES / 4;

/** Field errors for an object over either cap (sizes are of its JSON encoding in UTF-8). */
export function objectSizeErrors(object: StoredObject): FieldError[] {
  const { status, ...rest } = object;
  const errors: FieldError[] = [];
  const size = Buffer.byteLength(JSON.stringify(rest));
  if (size > MAX_OBJECT_BYTES) {
    errors.push({ path: ".metadata", message: `the object is ${size} bytes; objects may be at most ${MAX_OBJECT_BYTES} bytes without status, so that a full status always fits in a request` });
  }
  if (status !== undefined) {
    const statusSize = Buffer.byteLength(JSON.stringify(status));
    if (statusSize > MAX_STATUS_BYTES) errors.push({ path: ".status", message: `status is ${statusSize} bytes; at most ${MAX_STATUS_BYTES} are allowed` });
  }
  return errors;
}
