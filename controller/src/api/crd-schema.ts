// The structural OpenAPI v3 schema of a kind, as a CustomResourceDefinition wants it, made
// from its JSON Schema in schemas/. One function serves both the generated CRDs
// (scripts/schema-artifacts.ts) and the embedded server's OpenAPI documents, so `kubectl
// explain` reads the same schema from either.

export type Json = Record<string, unknown>;

// Resolves every $ref (local or cross-file) in place; CRD schemas may not contain refs.
function inline(node: unknown, file: string, schemas: ReadonlyMap<string, Json>): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(n, file, schemas));
  if (!node || typeof node !== "object") return node;
  const obj = node as Json;
  if (typeof obj.$ref === "string") {
    const [target = "", pointer = ""] = obj.$ref.split("#");
    const targetFile = target || file;
    let cur: unknown = schemas.get(targetFile);
    for (const part of pointer.split("/").filter(Boolean)) cur = (cur as Json)[part];
    if (cur === undefined) throw new Error(`${file}: unresolved $ref ${obj.$ref}`);
    const { $ref: _ref, ...rest } = obj;
    return { ...(inline(cur, targetFile, schemas) as Json), ...(inline(rest, file, schemas) as Json) };
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, inline(v, file, schemas)]));
}

// Structural-schema rules of apiextensions.k8s.io/v1: no $schema/$id/definitions,
// no additionalProperties next to properties, no propertyNames, const as enum.
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (["$schema", "$id", "definitions", "propertyNames", "title"].includes(k)) continue;
    if (k === "additionalProperties" && (v === false || (node as Json).properties)) continue;
    if (k === "const") {
      out.enum = [v];
      continue;
    }
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, structural(s)])) : structural(v);
  }
  return out;
}

/** The openAPIV3Schema of the kind whose schema is `file` (a key of `schemas`, e.g. "gameserver.schema.json"). */
export function crdSchema(file: string, schemas: ReadonlyMap<string, Json>): Json {
  const full = inline(schemas.get(file), file, schemas) as Json;
  const props = full.properties as Json;
  return {
    type: "object",
    description: full.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: structural(props.spec),
      status: structural(props.status),
    },
  };
}
