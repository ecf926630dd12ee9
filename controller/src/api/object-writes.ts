// The Kubernetes object lifecycle rules, as pure decisions: what a create, update, status
// write or delete turns the stored object into. No I/O here; the routes apply the plan.
import { randomBytes, randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { FieldError } from "../../../schemas/validate.js";
import type { ObjectMetadata, StoredObject } from "../store/store.js";
import { ApiError, apiErrors, type Subject } from "./api-error.js";
import { objectSizeErrors } from "./object-size.js";
import type { ResourceType } from "./resource-types.js";

export type Subresource = "main" | "status";

export type WritePlan =
  | { action: "noop"; object: StoredObject }
  | { action: "update"; object: StoredObject; expectedResourceVersion: string }
  | { action: "delete"; object: StoredObject; expectedResourceVersion: string };

export interface WriteClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

const IMMUTABLE = ["name", "namespace", "uid", "creationTimestamp"] as const;

export function subjectOf(type: ResourceType, name: string): Subject {
  return { group: type.group, plural: type.plural, kind: type.kind, name };
}

/** Kubernetes timestamps have whole seconds: `2026-11-27T06:00:00Z`. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A copy of `body` as an object of `type`: not an object → 400, wrong apiVersion/kind → 400,
 * missing apiVersion/kind are filled in (typed clients often leave them out).
 */
export function asObjectOf(type: ResourceType, body: unknown): StoredObject {
  if (!isObject(body)) throw apiErrors.badRequest(`the request body must be a JSON object (a ${type.kind})`);
  const copy = structuredClone(body);
  if (copy.apiVersion !== undefined && copy.apiVersion !== type.apiVersion) {
    throw apiErrors.badRequest(`apiVersion ${JSON.stringify(copy.apiVersion)} does not match the request path: ${type.plural} are ${type.apiVersion}`);
  }
  if (copy.kind !== undefined && copy.kind !== type.kind) {
    throw apiErrors.badRequest(`kind ${JSON.stringify(copy.kind)} does not match the request path: ${type.plural} hold kind ${type.kind}`);
  }
  if (copy.metadata === undefined) copy.metadata = {};
  if (!isObject(copy.metadata)) throw apiErrors.badRequest(".metadata must be an object");
  return { ...copy, apiVersion: type.apiVersion, kind: type.kind, metadata: copy.metadata as ObjectMetadata };
}

function validated(type: ResourceType, object: StoredObject): StoredObject {
  const sizeErrors = objectSizeErrors(object);
  // An oversized object is refused before the schema walks it.
  const errors = sizeErrors.length > 0 ? sizeErrors : type.validate(object);
  if (errors.length > 0) throw apiErrors.invalid(subjectOf(type, String(object.metadata.name ?? "")), errors);
  return object;
}

function invalid(type: ResourceType, name: string, path: string, message: string): ApiError {
  return apiErrors.invalid(subjectOf(type, name), [{ path, message }]);
}

/** The object to store for a POST to the collection of `namespace`. */
export function planCreate(type: ResourceType, body: unknown, namespace: string, clock: WriteClock): StoredObject {
  const object = asObjectOf(type, body);
  const meta = object.metadata;
  if (meta.namespace !== undefined && meta.namespace !== namespace) {
    throw apiErrors.badRequest(`the namespace of the object (${JSON.stringify(meta.namespace)}) does not match the namespace of the request (${JSON.stringify(namespace)})`);
  }
  if ((meta.name === undefined || meta.name === "") && typeof meta.generateName === "string") {
    meta.name = meta.generateName + randomBytes(4).toString("hex").slice(0, 5);
  }
  if (typeof meta.name !== "string" || meta.name === "") throw invalid(type, "", ".metadata.name", "required field is missing");
  meta.namespace = namespace;
  meta.uid = randomUUID();
  meta.creationTimestamp = timestamp(clock.now());
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (type.statusSubresource) {
    meta.generation = 1;
    // Only the controller reports status, through /status.
    delete object.status;
  }
  return validated(type, object);
}

// client-node sends timestamps back re-serialised from Date ("…:00.000Z"): compare instants.
function sameValue(field: string, a: unknown, b: unknown): boolean {
  if (field === "creationTimestamp" && typeof a === "string" && typeof b === "string") return Date.parse(a) === Date.parse(b);
  return a === b;
}

function finalizersOf(object: StoredObject): string[] {
  return Array.isArray(object.metadata.finalizers) ? object.metadata.finalizers : [];
}

/**
 * What a PUT or PATCH result `incoming` does to `existing`. Main writes keep the stored
 * status, status writes keep everything but status; identical results are no-ops.
 */
export function planUpdate(type: ResourceType, existing: StoredObject, incoming: unknown, subresource: Subresource): WritePlan {
  const body = asObjectOf(type, incoming);
  const old = existing.metadata;
  const meta = body.metadata;
  const name = old.name;
  const immutable: FieldError[] = [];
  for (const field of IMMUTABLE) {
    if (meta[field] !== undefined && !sameValue(field, meta[field], old[field])) immutable.push({ path: `.metadata.${field}`, message: `field is immutable (was ${JSON.stringify(old[field])})` });
  }
  if (immutable.length > 0) throw apiErrors.invalid(subjectOf(type, name), immutable);
  const currentRv = old.resourceVersion ?? "";
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== "" && meta.resourceVersion !== currentRv) {
    throw apiErrors.conflict(subjectOf(type, name), "the object has been modified; please apply your changes to the latest version and try again");
  }

  let next: StoredObject;
  if (subresource === "status") {
    next = structuredClone(existing);
    if (body.status === undefined) delete next.status;
    else next.status = body.status;
  } else {
    next = body;
    next.metadata = {
      ...meta,
      name,
      namespace: old.namespace,
      uid: old.uid,
      creationTimestamp: old.creationTimestamp,
      resourceVersion: currentRv,
    };
    keepOrDrop(next.metadata, old, "deletionTimestamp");
    keepOrDrop(next.metadata, old, "deletionGracePeriodSeconds");
    keepOrDrop(next.metadata, old, "generation");
    if (type.statusSubresource) {
      if (existing.status === undefined) delete next.status;
      else next.status = existing.status;
      if (!isDeepStrictEqual(existing.spec, next.spec)) next.metadata.generation = (old.generation ?? 0) + 1;
    }
    if (old.deletionTimestamp !== undefined) {
      const added = finalizersOf(next).filter((f) => !finalizersOf(existing).includes(f));
      if (added.length > 0) throw invalid(type, name, ".metadata.finalizers", `cannot add finalizers ${added.map((f) => JSON.stringify(f)).join(", ")} to an object that is being deleted`);
    }
  }

  if (isDeepStrictEqual(next, existing)) return { action: "noop", object: existing };
  validated(type, next);
  if (old.deletionTimestamp !== undefined && finalizersOf(next).length === 0) {
    return { action: "delete", object: next, expectedResourceVersion: currentRv };
  }
  return { action: "update", object: next, expectedResourceVersion: currentRv };
}

function keepOrDrop(meta: ObjectMetadata, old: ObjectMetadata, field: keyof ObjectMetadata): void {
  if (old[field] === undefined) delete meta[field];
  else meta[field] = old[field];
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** DELETE: objects with finalizers are only marked (once); others go at once. */
export function planDelete(type: ResourceType, existing: StoredObject, options: DeleteOptions, clock: WriteClock): WritePlan {
  const meta = existing.metadata;
  const currentRv = meta.resourceVersion ?? "";
  const pre = options.preconditions ?? {};
  if (pre.uid !== undefined && pre.uid !== meta.uid) {
    throw apiErrors.conflict(subjectOf(type, meta.name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ""}`);
  }
  if (pre.resourceVersion !== undefined && pre.resourceVersion !== currentRv) {
    throw apiErrors.conflict(subjectOf(type, meta.name), `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${currentRv}`);
  }
  if (finalizersOf(existing).length === 0) return { action: "delete", object: existing, expectedResourceVersion: currentRv };
  if (meta.deletionTimestamp !== undefined) return { action: "noop", object: existing };
  const next = structuredClone(existing);
  next.metadata.deletionTimestamp = timestamp(clock.now());
  next.metadata.deletionGracePeriodSeconds = 0;
  return { action: "update", object: next, expectedResourceVersion: currentRv };
}
