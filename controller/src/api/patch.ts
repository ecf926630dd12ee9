// PATCH bodies: JSON merge patch (RFC 7386) and JSON patch (RFC 6902). kubectl sends a
// strategic merge patch for kinds it has no schema for; without a schema a strategic merge
// patch is a merge patch, so it is treated as one.
import jsonPatch from "fast-json-patch";
import { ApiError, apiErrors } from "./api-error.js";

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
export const PATCH_TYPES: readonly string[] = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge key by key, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Applies a parsed patch document of `mediaType` to a copy of `target`. */
export function applyPatch(target: unknown, mediaType: string, patch: unknown): unknown {
  if (mediaType === MERGE_PATCH || mediaType === STRATEGIC_MERGE_PATCH) {
    if (!isObject(patch)) throw apiErrors.badRequest("a merge patch must be a JSON object");
    return mergePatch(target, patch);
  }
  if (mediaType === JSON_PATCH) {
    if (!Array.isArray(patch)) throw apiErrors.badRequest("a JSON patch must be an array of operations");
    const invalid = jsonPatch.validate(patch as jsonPatch.Operation[], target);
    if (invalid) throw new ApiError(422, "Invalid", `the JSON patch could not be applied: ${describePatchError(invalid)}`);
    try {
      return jsonPatch.applyPatch(structuredClone(target), patch as jsonPatch.Operation[], false, true).newDocument;
    } catch (e) {
      throw new ApiError(422, "Invalid", `the JSON patch could not be applied: ${describePatchError(e)}`);
    }
  }
  throw apiErrors.unsupportedMediaType(mediaType, PATCH_TYPES);
}

function describePatchError(e: unknown): string {
  if (e instanceof jsonPatch.JsonPatchError) {
    // The library's message embeds the whole document; the name and the operation suffice.
    return `${e.name} at operation ${e.index ?? "?"} (${JSON.stringify(e.operation)})`;
  }
  return e instanceof Error ? e.message : String(e);
}
