// fieldSelector support: `metadata.name=x` for every kind (kubectl's delete --wait and
// get NAME -w use it) plus the per-kind fields, e.g. `involvedObject.uid=…` for describe.
import type { StoredObject } from "../store/store.js";
import { apiErrors } from "./api-error.js";
import type { ResourceType } from "./resource-types.js";

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

// Kubernetes escapes `\`, `,` and `=` in values with a backslash.
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, "$1");
}

export function parseFieldSelector(text: string | undefined, type: ResourceType): FieldRequirement[] {
  if (text === undefined || text.trim() === "") return [];
  const allowed = new Set(["metadata.name", "metadata.namespace", ...type.selectableFields]);
  return splitUnescaped(text, ",").map((term) => {
    const m = /^\s*([A-Za-z0-9.]+)\s*(==|=|!=)(.*)$/s.exec(term);
    if (!m) throw apiErrors.badRequest(`invalid field selector ${JSON.stringify(text)}: cannot parse ${JSON.stringify(term)}`);
    const field = m[1]!;
    if (!allowed.has(field)) {
      throw apiErrors.badRequest(`field label not supported: ${field} (${type.plural} accept ${[...allowed].join(", ")})`);
    }
    return { field, operator: m[2] === "!=" ? "!=" : "=", value: unescape(m[3]!.trim()) };
  });
}

function fieldValue(object: StoredObject, field: string): string {
  // Kubernetes' `source` selector on events means the reporting component.
  const path = field === "source" ? ["source", "component"] : field.split(".");
  let v: unknown = object;
  for (const p of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return v === undefined || v === null ? "" : String(v);
}

export function matchesFields(requirements: readonly FieldRequirement[], object: StoredObject): boolean {
  return requirements.every((r) => (fieldValue(object, r.field) === r.value) === (r.operator === "="));
}
