// Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table and prints whatever
// columns the server chooses, so operators see PHASE without kubectl knowing our kinds.
// `includeObject=Object` embeds each full object (kubectl --sort-by and custom columns read
// it); the default embeds only the metadata.
import type { StoredObject } from "../store/store.js";
import type { PrinterColumn } from "./printer-columns.js";
import type { ResourceType } from "./resource-types.js";

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type IncludeObject = "None" | "Metadata" | "Object";

export interface TableRow {
  cells: unknown[];
  object?: StoredObject | { kind: "PartialObjectMetadata"; apiVersion: "meta.k8s.io/v1"; metadata: StoredObject["metadata"] };
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string; continue?: string };
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

/** The `includeObject` query parameter; anything unknown is a 400 for the caller to raise. */
export function parseIncludeObject(value: string | null): IncludeObject | undefined {
  if (value === null || value === "") return "Metadata";
  return value === "None" || value === "Metadata" || value === "Object" ? value : undefined;
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

function definition(c: PrinterColumn): TableColumnDefinition {
  // kubectl renders a date column as text it is given; the server sends the age already.
  return { name: c.name, type: c.type === "date" ? "string" : c.type, format: "", description: c.description, priority: c.priority };
}

const nameColumn: TableColumnDefinition = { name: "Name", type: "string", format: "name", description: "Name of the object, unique within its namespace", priority: 0 };

function cell(c: PrinterColumn, object: StoredObject, nowMs: number): unknown {
  const v = readPath(object, c.jsonPath);
  if (c.type === "date") {
    const t = typeof v === "string" ? Date.parse(v) : NaN;
    return Number.isNaN(t) ? "<unknown>" : humanDuration(nowMs - t);
  }
  // kubectl prints <none> for a null cell, which reads better than an empty column.
  return v === undefined ? null : v;
}

function row(type: ResourceType, object: StoredObject, nowMs: number, include: IncludeObject): TableRow {
  const cells: unknown[] = [object.metadata.name, ...type.columns.map((c) => cell(c, object, nowMs))];
  if (include === "None") return { cells };
  if (include === "Object") return { cells, object };
  return { cells, object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata } };
}

export function toTable(type: ResourceType, objects: readonly StoredObject[], meta: Table["metadata"], nowMs: number, include: IncludeObject = "Metadata"): Table {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: meta,
    columnDefinitions: [nameColumn, ...type.columns.map(definition)],
    rows: objects.map((o) => row(type, o, nowMs, include)),
  };
}
