// PATCH bodies: JSON merge patch (RFC 7386) and JSON patch (RFC 6902). kubectl sends a
// strategic merge patch for kinds it has no schema for; without a schema a strategic merge
// patch is a merge patch, so it is treated as one.
import jsonPatch from "fast-json-patch";
import { ApiError, apiErrors } from "./api-error.js";
import { MAX_JSON_DEPTH, boundedJsonSize, valueDepth } from "./json-limits.js";

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
export const APPLY_PATCH = "application/apply-patch+yaml";
export const PATCH_TYPES: readonly string[] = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH];

/** Kubernetes' own bound on the operations of one JSON patch. */
const MAX_PATCH_OPERATIONS = 10_000;
/** What the `copy` operations of one patch may duplicate in total (as Kubernetes bounds it). */
export const MAX_PATCH_COPY_BYTES = 1024 * 1024;
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// A key named `__proto__` is data here: plain assignment would set the prototype instead.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** RFC 7386: objects merge key by key, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
}

function invalidPatch(message: string): ApiError {
  return new ApiError(422, "Invalid", `the JSON patch could not be applied: ${message}`);
}

function segments(pointer: unknown): string[] {
  if (typeof pointer !== "string") return [];
  return pointer.split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function checkOperations(patch: unknown[]): jsonPatch.Operation[] {
  if (patch.length > MAX_PATCH_OPERATIONS) throw invalidPatch(`${patch.length} operations; at most ${MAX_PATCH_OPERATIONS} are allowed`);
  patch.forEach((op, i) => {
    if (!isObject(op)) throw invalidPatch(`operation ${i} is not an object`);
    for (const field of ["path", "from"] as const) {
      const bad = segments(op[field]).find((s) => FORBIDDEN_SEGMENTS.has(s));
      if (bad !== undefined) throw invalidPatch(`operation ${i}: ${field} ${JSON.stringify(op[field])} names ${JSON.stringify(bad)}, which is not allowed`);
    }
  });
  return patch as jsonPatch.Operation[];
}

function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw apiErrors.badRequest("a JSON patch must be an array of operations");
  const ops = checkOperations(patch);
  let document = structuredClone(target);
  let copied = 0;
  try {
    ops.forEach((op, i) => {
      // A copy duplicates a subtree; repeated copies of a parent into itself double the
      // document each time, so what copies add up to is bounded.
      if (op.op === "copy") {
        const source = jsonPatch.getValueByPointer(document, op.from);
        copied += boundedJsonSize(source, MAX_PATCH_COPY_BYTES - copied);
        if (copied > MAX_PATCH_COPY_BYTES) throw invalidPatch(`operation ${i}: copy operations would duplicate more than ${MAX_PATCH_COPY_BYTES} bytes`);
      }
      document = jsonPatch.applyOperation(document, op, true, true, true, i).newDocument;
    });
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw invalidPatch(describePatchError(e));
  }
  return document;
}

/** Applies a parsed patch document of `mediaType` to a copy of `target`. */
export function applyPatch(target: unknown, mediaType: string, patch: unknown): unknown {
  let result: unknown;
  if (mediaType === MERGE_PATCH || mediaType === STRATEGIC_MERGE_PATCH) {
    if (!isObject(patch)) throw apiErrors.badRequest("a merge patch must be a JSON object");
    result = mergePatch(target, patch);
  } else if (mediaType === JSON_PATCH) result = applyJsonPatch(target, patch);
  else throw apiErrors.unsupportedMediaType(mediaType, PATCH_TYPES);
  if (valueDepth(result) > MAX_JSON_DEPTH) throw invalidPatch(`the patched object would be nested more than ${MAX_JSON_DEPTH} levels deep`);
  return result;
}

function describePatchError(e: unknown): string {
  if (e instanceof jsonPatch.JsonPatchError) {
    // The library's message embeds the whole document; the name and the operation suffice.
    return `${e.name} at operation ${e.index ?? "?"} (${JSON.stringify(e.operation)})`;
  }
  return e instanceof Error ? e.message : String(e);
}
