// List responses. Items go out as the JSON text the store holds, joined, never parsed and
// re-encoded, unless the request needs the objects (a fieldSelector, a Table). `limit` and
// `continue` follow Kubernetes: the token names the version of the first page and the last
// key returned, every page shows the collection at that version, and a token whose
// version is no longer retained is a 410.
import type { ServerResponse } from "node:http";
import type { ListContinuation, ListResult, StoredObject } from "../store/store.js";
import { ApiError, apiErrors } from "./api-error.js";
import { matchesFields, type FieldRequirement } from "./field-selector.js";
import type { ResourceType } from "./resource-types.js";
import { sendJson } from "./respond.js";
import { parseIncludeObject, toTable, type IncludeObject } from "./table.js";

export interface ListParams {
  limit?: number;
  continueFrom?: ListContinuation;
}

function tokenError(): ApiError {
  return apiErrors.badRequest("continue key is not valid: it must be a token returned by a previous list of the same collection");
}

export function encodeContinue(c: ListContinuation): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: c.resourceVersion, ns: c.namespace, name: c.name })).toString("base64url");
}

export function decodeContinue(token: string): ListContinuation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw tokenError();
  }
  const p = parsed as { v?: unknown; rv?: unknown; ns?: unknown; name?: unknown };
  if (p === null || typeof p !== "object" || p.v !== 1 || typeof p.rv !== "string" || !/^\d+$/.test(p.rv) || typeof p.ns !== "string" || typeof p.name !== "string") throw tokenError();
  return { resourceVersion: p.rv, namespace: p.ns, name: p.name };
}

/** `limit` and `continue` from the query: 400 for malformed ones. */
export function listParams(query: URLSearchParams): ListParams {
  const params: ListParams = {};
  const limit = query.get("limit");
  if (limit !== null && limit !== "") {
    if (!/^\d+$/.test(limit)) throw apiErrors.badRequest(`limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
    if (Number(limit) > 0) params.limit = Number(limit);
  }
  const token = query.get("continue");
  if (token !== null && token !== "") params.continueFrom = decodeContinue(token);
  return params;
}

/** The 410 Kubernetes answers for a continue token whose version is gone. */
export function expiredContinue(): ApiError {
  return apiErrors.expired(
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
  );
}

function continueToken(result: ListResult): string | undefined {
  if (!result.more) return undefined;
  const last = result.items[result.items.length - 1]!;
  return encodeContinue({ resourceVersion: result.resourceVersion, namespace: last.namespace, name: last.name });
}

export interface ListRendering {
  fields: FieldRequirement[];
  asTable: boolean;
  includeObject: string | null;
  nowMs: number;
}

export function sendList(res: ServerResponse, type: ResourceType, result: ListResult, how: ListRendering): void {
  const token = continueToken(result);
  const meta: { resourceVersion: string; continue?: string } = { resourceVersion: result.resourceVersion };
  if (token !== undefined) meta.continue = token;
  if (how.asTable || how.fields.length > 0) {
    let objects = result.items.map((i) => JSON.parse(i.json) as StoredObject);
    if (how.fields.length > 0) objects = objects.filter((o) => matchesFields(how.fields, o));
    if (how.asTable) {
      const include: IncludeObject | undefined = parseIncludeObject(how.includeObject);
      if (include === undefined) throw apiErrors.badRequest(`includeObject must be None, Metadata or Object, got ${JSON.stringify(how.includeObject)}`);
      return sendJson(res, 200, toTable(type, objects, meta, how.nowMs, include));
    }
    return sendJson(res, 200, { apiVersion: type.apiVersion, kind: type.listKind, metadata: meta, items: objects });
  }
  const head = JSON.stringify({ apiVersion: type.apiVersion, kind: type.listKind, metadata: meta });
  // `{...,"metadata":{...}}` → `{...,"metadata":{...},"items":[<stored JSON>,...]}`
  const text = `${head.slice(0, -1)},"items":[${result.items.map((i) => i.json).join(",")}]}`;
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
