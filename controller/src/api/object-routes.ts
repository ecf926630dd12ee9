// The REST verbs on object collections and items (custom resources, Leases, Events).
// Each handler reads its body first and then does get → plan → store write without
// awaiting, so the resourceVersion check and the write cannot interleave with another request.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../engine/clock.js";
import { parseLabelSelector } from "../store/label-selector.js";
import { StoreError, type Store, type StoredObject } from "../store/store.js";
import { apiErrors } from "./api-error.js";
import { matchesFields, parseFieldSelector, type FieldRequirement } from "./field-selector.js";
import { planCreate, planDelete, planUpdate, subjectOf, type DeleteOptions, type WritePlan } from "./object-writes.js";
import { applyPatch, PATCH_TYPES } from "./patch.js";
import type { ResourceTarget } from "./request-path.js";
import { mediaType, parseJson, readBody, requireJson } from "./request-body.js";
import type { ResourceType } from "./resource-types.js";
import { sendJson } from "./respond.js";
import { toTable, wantsTable } from "./table.js";
import type { WatchHub } from "./watch-stream.js";

export interface ObjectRoutesContext {
  store: Store;
  watches: WatchHub;
  clock: Clock;
}

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

function optionalInt(query: URLSearchParams, key: string): number | undefined {
  const v = query.get(key);
  if (v === null || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw apiErrors.badRequest(`${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

// Store errors carry the store's wording; clients expect the Kubernetes one.
function storeWrite<T>(type: ResourceType, name: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    const subject = subjectOf(type, name);
    if (e.reason === "AlreadyExists") throw apiErrors.alreadyExists(subject);
    if (e.reason === "NotFound") throw apiErrors.notFound(subject);
    throw apiErrors.conflict(subject, "the object has been modified; please apply your changes to the latest version and try again");
  }
}

export async function handleObjectRequest(
  ctx: ObjectRoutesContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: ResourceTarget,
  query: URLSearchParams,
): Promise<void> {
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

function list(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ResourceTarget, query: URLSearchParams, extraFields: FieldRequirement[] = []): void {
  const { type, namespace } = target;
  const labelSelector = parseLabelSelector(query.get("labelSelector") ?? undefined);
  const fields = [...parseFieldSelector(query.get("fieldSelector") ?? undefined, type), ...extraFields];
  const asTable = wantsTable(req.headers.accept);
  if (isWatch(query)) {
    ctx.watches.serve(res, {
      type,
      namespace,
      labelSelector,
      fields,
      asTable,
      resourceVersion: query.get("resourceVersion") ?? undefined,
      timeoutSeconds: optionalInt(query, "timeoutSeconds"),
      allowBookmarks: query.get("allowWatchBookmarks") === "true",
    });
    return;
  }
  const result = ctx.store.list(type.storeKey, { namespace, labelSelector });
  const items = fields.length ? result.items.filter((o) => matchesFields(fields, o)) : result.items;
  if (asTable) return sendJson(res, 200, toTable(type, items, result.resourceVersion, ctx.clock.now()));
  sendJson(res, 200, { apiVersion: type.apiVersion, kind: type.listKind, metadata: { resourceVersion: result.resourceVersion }, items });
}

function get(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): void {
  const { type, namespace, name } = target;
  if (isWatch(query)) {
    // The legacy single-object watch, kept because it costs one line.
    return list(ctx, req, res, { ...target, name: undefined }, query, [{ field: "metadata.name", operator: "=", value: name }]);
  }
  const object = ctx.store.get(type.storeKey, namespace, name);
  if (!object) throw apiErrors.notFound(subjectOf(type, name));
  if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(type, [object], object.metadata.resourceVersion, ctx.clock.now()));
  sendJson(res, 200, object);
}

async function create(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, type: ResourceType, namespace: string, query: URLSearchParams): Promise<void> {
  requireJson(req.headers["content-type"]);
  const body = parseJson(await readBody(req));
  if (body === undefined) throw apiErrors.badRequest(`the request body is empty: POST needs a ${type.kind}`);
  const object = planCreate(type, body, namespace, ctx.clock);
  if (isDryRun(query)) return sendJson(res, 201, object);
  const stored = storeWrite(type, object.metadata.name, () => ctx.store.create(type.storeKey, object));
  if (type.maxPerNamespace !== undefined) ctx.store.pruneOldest(type.storeKey, namespace, type.maxPerNamespace);
  sendJson(res, 201, stored);
}

function existing(ctx: ObjectRoutesContext, target: ItemTarget): StoredObject {
  const object = ctx.store.get(target.type.storeKey, target.namespace, target.name);
  if (!object) throw apiErrors.notFound(subjectOf(target.type, target.name));
  return object;
}

function isDryRun(query: URLSearchParams): boolean {
  return query.getAll("dryRun").includes("All");
}

function commit(ctx: ObjectRoutesContext, target: ItemTarget, plan: WritePlan, query: URLSearchParams): StoredObject {
  if (plan.action === "noop" || isDryRun(query)) return plan.object;
  const { type, namespace, name } = target;
  if (plan.action === "update") return storeWrite(type, name, () => ctx.store.update(type.storeKey, plan.object, plan.expectedResourceVersion));
  const gone = storeWrite(type, name, () => ctx.store.delete(type.storeKey, namespace, name, plan.expectedResourceVersion));
  return { ...plan.object, metadata: { ...plan.object.metadata, resourceVersion: gone.metadata.resourceVersion } };
}

async function put(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): Promise<void> {
  requireJson(req.headers["content-type"]);
  const body = parseJson(await readBody(req));
  if (body === undefined) throw apiErrors.badRequest(`the request body is empty: PUT needs a ${target.type.kind}`);
  const plan = planUpdate(target.type, existing(ctx, target), body, target.subresource ?? "main");
  sendJson(res, 200, commit(ctx, target, plan, query));
}

async function patch(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): Promise<void> {
  const type = mediaType(req.headers["content-type"]);
  if (!PATCH_TYPES.includes(type)) throw apiErrors.unsupportedMediaType(type, PATCH_TYPES);
  const body = parseJson(await readBody(req));
  if (body === undefined) throw apiErrors.badRequest("the patch is empty");
  const current = existing(ctx, target);
  const patched = applyPatch(current, type, body);
  const plan = planUpdate(target.type, current, patched, target.subresource ?? "main");
  sendJson(res, 200, commit(ctx, target, plan, query));
}

async function remove(ctx: ObjectRoutesContext, req: IncomingMessage, res: ServerResponse, target: ItemTarget, query: URLSearchParams): Promise<void> {
  const body = parseJson(await readBody(req));
  const options: DeleteOptions & { dryRun?: unknown } = typeof body === "object" && body !== null ? (body as DeleteOptions) : {};
  // DeleteOptions may carry dryRun in the body instead of the query.
  if (Array.isArray(options.dryRun) && options.dryRun.includes("All")) query.append("dryRun", "All");
  const plan = planDelete(target.type, existing(ctx, target), options, ctx.clock);
  sendJson(res, 200, commit(ctx, target, plan, query));
}
