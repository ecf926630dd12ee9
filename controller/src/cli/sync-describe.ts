// The Status part of `zlh describe sync`: source, revisions, counts, errors by file and
// line, and the inventory with each object's readiness.
import type { SyncStatus } from "../../../schemas/generated/types.js";
import { formatAge } from "./ages.js";
import type { ResourceObject } from "./resource-rows.js";
import { formatTable } from "./table.js";

const NONE = "<none>";
const field = (label: string, value: string) => `${`${label}:`.padEnd(13)}${value}`;
const indent = (lines: string[]) => lines.map((l) => (l ? `  ${l}` : l));

export function describeSyncStatus(obj: ResourceObject, nowMs: number): string[] {
  const s = (obj.status ?? {}) as SyncStatus;
  const c = s.counts;
  const lines = [
    field("Observed", s.observedGeneration !== undefined ? `generation ${s.observedGeneration}` : NONE),
    field("Applied", s.lastAppliedRevision ? `${s.lastAppliedRevision}${s.lastAppliedTime ? ` (${formatAge(s.lastAppliedTime, nowMs)} ago)` : ""}` : NONE),
    field("Attempted", s.lastAttemptedRevision ?? NONE),
    field("Counts", c ? `applied ${c.applied ?? 0}, unchanged ${c.unchanged ?? 0}, pruned ${c.pruned ?? 0}, failed ${c.failed ?? 0}` : NONE),
  ];
  if (s.errors?.length) {
    lines.push("Errors:", ...indent(s.errors.map((e) => `${e.file}${e.line !== undefined ? `:${e.line}` : ""}${e.col !== undefined ? `:${e.col}` : ""}: ${e.message}`)));
  } else {
    lines.push(field("Errors", NONE));
  }
  if (s.inventory?.length) {
    lines.push("Inventory:", ...indent(formatTable(["KIND", "NAMESPACE", "NAME", "READY", "FILE"], s.inventory.map((e) => [e.kind, e.namespace, e.name, e.ready ?? "Unknown", e.file ?? NONE]))));
  } else {
    lines.push(field("Inventory", NONE));
  }
  return lines;
}
