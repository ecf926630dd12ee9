// What `zlh get` shows for one object: the columns of the table, derived from status only.
import type { Condition, ObjectMeta, ResourceStatus } from "../../../schemas/generated/types.js";
import { formatAge } from "./ages.js";

export interface ResourceObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Partial<ObjectMeta>;
  spec?: unknown;
  status?: ResourceStatus;
}

export interface RowOptions {
  wide?: boolean;
  showNamespace?: boolean;
  showKind?: boolean;
  nowMs: number;
}

const NONE = "<none>";

export function rowHeaders(opts: Omit<RowOptions, "nowMs">): string[] {
  return [
    ...(opts.showNamespace ? ["NAMESPACE"] : []),
    "NAME",
    ...(opts.showKind ? ["KIND"] : []),
    "PHASE",
    "VMID",
    "HOST",
    "READY",
    "AGE",
    ...(opts.wide ? ["IP", "ENDPOINTS", "RESTARTS", "MESSAGE"] : []),
  ];
}

export function conditionOf(status: ResourceStatus | undefined, type: Condition["type"]): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** A deleted object keeps its last phase in status; say what the user is waiting for instead. */
export function displayPhase(obj: ResourceObject): string {
  if (obj.metadata?.deletionTimestamp) return "Terminating";
  return obj.status?.phase ?? "Pending";
}

export function resourceRow(obj: ResourceObject, opts: RowOptions): string[] {
  const s = obj.status;
  const firstFalse = s?.conditions?.find((c) => c.status === "False");
  return [
    ...(opts.showNamespace ? [obj.metadata?.namespace ?? NONE] : []),
    obj.metadata?.name ?? NONE,
    ...(opts.showKind ? [obj.kind ?? NONE] : []),
    displayPhase(obj),
    s?.vmid !== undefined ? String(s.vmid) : NONE,
    s?.endpoints?.[0]?.host ?? NONE,
    conditionOf(s, "Ready")?.status ?? "Unknown",
    formatAge(obj.metadata?.creationTimestamp, opts.nowMs),
    ...(opts.wide
      ? [
          s?.workload?.ip ?? NONE,
          s?.endpoints?.length ? s.endpoints.map((e) => e.url).join(",") : NONE,
          String(s?.agent?.restarts ?? 0),
          firstFalse ? firstFalse.reason : "",
        ]
      : []),
  ];
}
