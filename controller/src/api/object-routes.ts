// The REST verbs on object collections and items (custom resources, Leases, Events).
// Writes read the object, decide (object-writes.ts, pure), admit, and write with a
// compare-and-swap on the resourceVersion they read; if another write got in between, the
// whole read-decide-write runs again (Kubernetes' GuaranteedUpdate). A client that pinned a
// resourceVersion gets its 409 from the decision on the retry.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { FieldError } from "../../../schemas/validate.js";
import type { Clock } from "../engine/clock.js";
import { parseLabelSelector } from "../store/label-selector.js";
import { StoreError, type Store, type StoredObject } from "../store/store.js";
import { apiErrors } from "./api-error.js";
import type { EventRetention } from "./event-retention.js";
import { parseFieldSelector, type FieldRequirement } from "./field-selector.js";
import { expiredContinue, listParams, sendList } from "./list-response.js";
import { planCreate, planDelete, planUpdate, subjectOf, type DeleteOptions, type WritePlan } from "./object-writes.js";
import { applyPatch, PATCH_TYPES } from "./patch.js";
import type { ResourceTarget } from "./request-path.js";
import { mediaType, parseJson, readBody, requireJson } from "./request-body.js";
import type { ResourceType } from "./resource-types.js";
import { sendJson } from "./respond.js";
import { parseIncludeObject, toTable, wantsTable } from "./table.js";
import type { WatchHub } from "./watch-stream.js";

export interface AdmissionRequest {
  kind: string;
  operation: "create" | "update";
  object: StoredObject;
}

/** Checks a write before it is stored (also on dry runs); its field errors become a 422. */
export type Admission = (req: AdmissionRequest) => Promise<FieldError[]>;

export interface ObjectRoutesContext {
  store: Store;
  watches: WatchHub;
  clock: Clock;
  events: EventRetention;
  admission?: Admission;
  logger: Logger;
}

// Concurrent writers to one object are rare (the controller and an operator); a few
// rounds always settle them.
const MAX_WRITE_ATTEMPTS = 5;

/** Kubernetes verb of a request, for metrics and logs. */
export function verbOf(method: string, target: ResourceTarget, query: URLSearchParams): string {
  const watch = isWatch(query);
  switch (method) {
    case "GET":
      return watch ? "watch" : target.name === undefined ? "list" : "get";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return method.toLowerCase();
  }
}

function isWatch(query: URLSearchParams): boolean {
  const w = query.get("watch");
  return w === "true" || w === "1";
}

function isDryRun(query: URLSearchParams): boolean {
  return query.getAll("dryRun").includes("All");
}

function optionalInt(query: URLSearchParams, key: string): number | undefined {
  const v = query.get(key);
  if (v === null || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw apiErrors.badRequest(`${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

// Store errors carry the store's wording; clients expect the Kubernetes one.
function inKubernetesTerms(type: ResourceType, name: string, e: unknown): unknown {
  if (!(e instanceof StoreError)) return e;
  const subject = subjectOf(type, name);
  if (e.reason === "AlreadyExists") return apiErrors.alreadyExists(subject);
  if (e.reason === "NotFound") return apiErrors.notFound(subject);
  if (e.reason === "Conflict") return apiErrors.conflict(subject, "the object has been modified; please apply your changes to the latest version and try again");
  return e;
}

export async function handleObjectRequest(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ResourceTarget, query: URLSearchParams): Promise<void> {
  const method = req.method ?? "GET";
  const { type, namespace, name } = target;
  if (name === undefined) {
    if (method === "GET") return list(ctx, req, res, target, query);
    if (method === "POST" && namespace !== undefined) return create(ctx, req, res, type, namespace, query);
    throw apiErrors.methodNotAllowed(method, `the ${type.plural} collection`);
  }
  if (namespace === undefined) throw apiErrors.methodNotAllowed(method, type.plural);
  const item = { ...target, namespace, name };
  switch (method) {
    case "GET":
      return get(ctx, req, res, item, query);
    case "PUT":
      return put(ctx, req, res, item, query);
    case "PATCH":
      return patch(ctx, req, res, item, query);
    case "DELETE":
      if (target.subresource) throw apiErrors.methodNotAllowed(method, `${type.plural}/status`);
      return remove(ctx, req, res, item, query);
    default:
      throw apiErrors.methodNotAllowed(method, `${type.plural} "${name}"`);
  }
}

type ItemTarget = ResourceTarget & { namespace: string; name: string };

function tableInclude(query: URLSearchParams) {
  const include = parseIncludeObject(query.get("includeObject"));
  if (include === undefined) throw apiErrors.badRequest(`includeObject must be None, Metadata or Object, got ${JSON.stringify(query.get("includeObject"))}`);
  return include;
}

async function list(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ResourceTarget, query: URLSearchParams, extraFields: FieldRequirement[] = []): Promise<void> {
  const { type, namespace } = target;
  const labelSelector = parseLabelSelector(query.get("labelSelector") ?? undefined);
  const fields = [...parseFieldSelector(query.get("fieldSelector") ?? undefined, type), ...extraFields];
  const asTable = wantsTable(req.headers.accept);
  if (isWatch(query)) {
    return ctx.watches.serve(res, {
      type,
      namespace,
      labelSelector,
      fields,
      table: asTable ? tableInclude(query) : undefined,
      resourceVersion: query.get("resourceVersion") ?? undefined,
      timeoutSeconds: optionalInt(query, "timeoutSeconds"),
      allowBookmarks: query.get("allowWatchBookmarks") === "true",
    });
  }
  const paging = listParams(query);
  let result;
  try {
    result = await ctx.store.list(type.storeKey, { namespace, labelSelector, ...paging });
  } catch (e) {
    if (e instanceof StoreError && e.reason === "Expired") throw expiredContinue();
    throw e;
  }
  sendList(res, type, result, { fields, asTable, includeObject: query.get("includeObject"), nowMs: ctx.clock.now() });
}

async function get(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): Promise<void> {
  const { type, name } = target;
  if (isWatch(query)) {
    // The legacy single-object watch, kept because it costs one line.
    return list(ctx, req, res, { ...target, name: undefined }, query, [{ field: "metadata.name", operator: "=", value: name }]);
  }
  const object = await existing(ctx, target);
  if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(type, [object], { resourceVersion: object.metadata.resourceVersion }, ctx.clock.now(), tableInclude(query)));
  sendJson(res, 200, object);
}

async function existing(ctx: ObjectRoutesContext, target: ItemTarget): Promise<StoredObject> {
  const object = await ctx.store.get(target.type.storeKey, target.namespace, target.name);
  if (!object) throw apiErrors.notFound(subjectOf(target.type, target.name));
  return object;
}

async function admit(ctx: ObjectRoutesContext, type: ResourceType, operation: "create" | "update", object: StoredObject): Promise<void> {
  if (!ctx.admission) return;
  const errors = await ctx.admission({ kind: type.kind, operation, object });
  if (errors.length > 0) throw apiErrors.invalid(subjectOf(type, object.metadata.name), errors);
}

async function create(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, type: ResourceType, namespace: string, query: URLSearchParams): Promise<void> {
  requireJson(req.headers["content-type"]);
  const body = parseJson(await readBody(req));
  if (body === undefined) throw apiErrors.badRequest(`the request body is empty: POST needs a ${type.kind}`);
  const object = planCreate(type, body, namespace, ctx.clock);
  await admit(ctx, type, "create", object);
  if (isDryRun(query)) return sendJson(res, 201, object);
  let stored: StoredObject;
  try {
    stored = await ctx.store.create(type.storeKey, object);
  } catch (e) {
    throw inKubernetesTerms(type, object.metadata.name, e);
  }
  if (type.capped) await ctx.events.created(namespace);
  sendJson(res, 201, stored);
}

/** Writes what `decide` makes of the current object, re-reading and deciding again when another write got in first. */
async function guaranteedUpdate(ctx: ObjectRoutesContext, target: ItemTarget, query: URLSearchParams, decide: (current: StoredObject) => WritePlan): Promise<StoredObject> {
  const { type, namespace, name } = target;
  for (let attempt = 1; ; attempt++) {
    const current = await existing(ctx, target);
    const plan = decide(current);
    if (plan.action === "noop") return plan.object;
    if (plan.action === "update" && !target.subresource) await admit(ctx, type, "update", plan.object);
    if (isDryRun(query)) return plan.object;
    try {
      if (plan.action === "update") {
        return await ctx.store.update(type.storeKey, plan.object, { expectedResourceVersion: plan.expectedResourceVersion, previous: current });
      }
      const gone = await ctx.store.delete(type.storeKey, namespace, name, plan.expectedResourceVersion);
      if (type.capped) ctx.events.deleted(namespace);
      return { ...plan.object, metadata: { ...plan.object.metadata, resourceVersion: gone.metadata.resourceVersion } };
    } catch (e) {
      if (e instanceof StoreError && e.reason === "Conflict" && attempt < MAX_WRITE_ATTEMPTS) continue;
      throw inKubernetesTerms(type, name, e);
    }
  }
}

async function put(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): Promise<void> {
  requireJson(req.headers["content-type"]);
  const body = parseJson(await readBody(req));
  if (body === undefined) throw apiErrors.badRequest(`the request body is empty: PUT needs a ${target.type.kind}`);
  const stored = await guaranteedUpdate(ctx, target, query, (current) => planUpdate(target.type, current, body, target.subresource ?? "main"));
  sendJson(res, 200, stored);
}

async function patch(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): Promise<void> {
  const type = mediaType(req.headers["content-type"]);
  if (!PATCH_TYPES.includes(type)) throw apiErrors.unsupportedMediaType(type, PATCH_TYPES);
  const body = parseJson(await readBody(req));
  if (body === undefined) throw apiErrors.badRequest("the patch is empty");
  const stored = await guaranteedUpdate(ctx, target, query, (current) => planUpdate(target.type, current, applyPatch(current, type, body), target.subresource ?? "main"));
  sendJson(res, 200, stored);
}

async function remove(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): Promise<void> {
  const body = parseJson(await readBody(req));
  const options: DeleteOptions & { dryRun?: unknown } = typeof body === "object" && body !== null ? (body as DeleteOptions) : {};
  // DeleteOptions may carry dryRun in the body instead of the query.
  if (Array.isArray(options.dryRun) && options.dryRun.includes("All")) query.append("dryRun", "All");
  const stored = await guaranteedUpdate(ctx, target, query, (current) => planDelete(target.type, current, options, ctx.clock));
  sendJson(res, 200, stored);
}
