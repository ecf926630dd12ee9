// Kinds without a zlh schema (core Events, coordination Leases) still get a structural
// check, so a malformed body is a 422 naming the field rather than a stored surprise.
import type { FieldError } from "../../../schemas/validate.js";
import { DNS1123_SUBDOMAIN } from "./names.js";

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringMap(errors: FieldError[], value: unknown, path: string): void {
  if (value === undefined) return;
  if (!isObject(value)) return void errors.push({ path, message: "must be an object of strings" });
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") errors.push({ path: `${path}[${JSON.stringify(k)}]`, message: "must be a string" });
  }
}

function typed(errors: FieldError[], obj: Json, field: string, type: "string" | "integer" | "object", path: string, required = false): void {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (required) errors.push({ path: `${path}.${field}`, message: "required field is missing" });
    return;
  }
  const ok = type === "integer" ? Number.isInteger(v) : type === "object" ? isObject(v) : typeof v === type;
  if (!ok) errors.push({ path: `${path}.${field}`, message: `must be ${type === "integer" ? "an integer" : `a${type === "object" ? "n" : ""} ${type}`}` });
}

function metadataErrors(doc: Json): FieldError[] {
  const errors: FieldError[] = [];
  const meta = doc.metadata;
  if (!isObject(meta)) return [{ path: ".metadata", message: "required field is missing" }];
  if (typeof meta.name !== "string" || !DNS1123_SUBDOMAIN.test(meta.name)) {
    errors.push({ path: ".metadata.name", message: "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)" });
  }
  stringMap(errors, meta.labels, ".metadata.labels");
  stringMap(errors, meta.annotations, ".metadata.annotations");
  const fin = meta.finalizers;
  if (fin !== undefined && (!Array.isArray(fin) || fin.some((f) => typeof f !== "string" || f === ""))) {
    errors.push({ path: ".metadata.finalizers", message: "must be a list of non-empty strings" });
  }
  return errors;
}

export function leaseShapeErrors(doc: unknown): FieldError[] {
  if (!isObject(doc)) return [{ path: ".", message: "must be an object" }];
  const errors = metadataErrors(doc);
  typed(errors, doc, "spec", "object", "");
  const spec = doc.spec;
  if (isObject(spec)) {
    for (const f of ["holderIdentity", "acquireTime", "renewTime", "strategy", "preferredHolder"]) typed(errors, spec, f, "string", ".spec");
    for (const f of ["leaseDurationSeconds", "leaseTransitions"]) typed(errors, spec, f, "integer", ".spec");
  }
  return errors;
}

export function eventShapeErrors(doc: unknown): FieldError[] {
  if (!isObject(doc)) return [{ path: ".", message: "must be an object" }];
  const errors = metadataErrors(doc);
  typed(errors, doc, "involvedObject", "object", "", true);
  const involved = doc.involvedObject;
  if (isObject(involved)) {
    for (const f of ["kind", "name", "namespace", "uid", "apiVersion", "resourceVersion", "fieldPath"]) typed(errors, involved, f, "string", ".involvedObject");
  }
  typed(errors, doc, "reason", "string", "", true);
  typed(errors, doc, "message", "string", "", true);
  for (const f of ["type", "firstTimestamp", "lastTimestamp", "reportingComponent", "reportingInstance", "action"]) typed(errors, doc, f, "string", "");
  typed(errors, doc, "count", "integer", "");
  typed(errors, doc, "source", "object", "");
  return errors;
}
