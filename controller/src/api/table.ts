// Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table and prints whatever
// columns the server chooses, so operators see PHASE without kubectl knowing our kinds.
import type { StoredObject } from "../store/store.js";
import type { ResourceType, TableColumn } from "./resource-types.js";

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object: { kind: "PartialObjectMetadata"; apiVersion: "meta.k8s.io/v1"; metadata: StoredObject["metadata"] };
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/** True when the Accept header asks for a Table (kubectl get: `application/json;as=Table;v=v1;g=meta.k8s.io`). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((part) => {
    const params = part.split(";").map((p) => p.trim());
    return params.includes("as=Table") && params.includes("g=meta.k8s.io") && params.includes("v=v1");
  });
}

/** Kubernetes' HumanDuration: `45s`, `3m20s`, `5h10m`, `3d4h`, `2y30d`. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

/** Reads `.status.endpoints[0].host` style paths; undefined when any step is missing. */
export function readPath(object: unknown, path: string): unknown {
  let v: unknown = object;
  for (const step of path.match(/[^.[\]]+/g) ?? []) {
    if (v === null || typeof v !== "object") return undefined;
    v = /^\d+$/.test(step) && Array.isArray(v) ? v[Number(step)] : (v as Record<string, unknown>)[step];
  }
  return v;
}

function definition(c: TableColumn): TableColumnDefinition {
  return { name: c.name, type: c.type, format: "", description: c.description, priority: 0 };
}

const nameColumn: TableColumnDefinition = { name: "Name", type: "string", format: "name", description: "Name of the object, unique within its namespace", priority: 0 };
const ageColumn: TableColumnDefinition = { name: "Age", type: "string", format: "", description: "Time since the object was created", priority: 0 };

function row(type: ResourceType, object: StoredObject, nowMs: number): TableRow {
  const created = Date.parse(object.metadata.creationTimestamp ?? "");
  const cells: unknown[] = [object.metadata.name];
  for (const c of type.columns) {
    const v = readPath(object, c.path);
    // kubectl prints <none> for a null cell, which reads better than an empty column.
    cells.push(v === undefined ? null : v);
  }
  cells.push(Number.isNaN(created) ? "<unknown>" : humanDuration(nowMs - created));
  return { cells, object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata } };
}

export function toTable(type: ResourceType, objects: readonly StoredObject[], resourceVersion: string | undefined, nowMs: number): Table {
  const table: Table = {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {},
    columnDefinitions: [nameColumn, ...type.columns.map(definition), ageColumn],
    rows: objects.map((o) => row(type, o, nowMs)),
  };
  if (resourceVersion !== undefined) table.metadata.resourceVersion = resourceVersion;
  return table;
}
