// What `zlh get syncs` shows for one Sync: the columns `flux get kustomizations` shows.
import type { SyncStatus } from "../../../schemas/generated/types.js";
import { formatAge } from "./ages.js";
import type { ResourceObject, RowOptions } from "./resource-rows.js";

const NONE = "<none>";

export function syncRowHeaders(opts: Omit<RowOptions, "nowMs">): string[] {
  return [...(opts.showNamespace ? ["NAMESPACE"] : []), "NAME", "READY", "REVISION", "SUSPENDED", "AGE", "MESSAGE", ...(opts.wide ? ["SOURCE", "INVENTORY"] : [])];
}

/** `sha256:0123…` and 40-hex commit SHAs are shortened to 12 characters, as Flux prints them. */
export function shortRevision(rev: string | undefined): string {
  if (!rev) return NONE;
  const m = /^(sha256:)?([0-9a-f]{12})[0-9a-f]{20,}$/.exec(rev);
  return m ? `${m[1] ?? ""}${m[2]}` : rev;
}

export function syncRow(obj: ResourceObject, opts: RowOptions): string[] {
  const s = obj.status as SyncStatus | undefined;
  const spec = (obj.spec ?? {}) as { suspend?: boolean; source?: { path?: string; git?: { url: string; ref?: string } } };
  const ready = s?.conditions?.find((c) => c.type === "Ready");
  const source = spec.source?.path ?? (spec.source?.git ? `${spec.source.git.url}@${spec.source.git.ref ?? "main"}` : NONE);
  return [
    ...(opts.showNamespace ? [obj.metadata?.namespace ?? NONE] : []),
    obj.metadata?.name ?? NONE,
    ready?.status ?? "Unknown",
    shortRevision(s?.lastAppliedRevision),
    String(spec.suspend ?? false),
    formatAge(obj.metadata?.creationTimestamp, opts.nowMs),
    ready?.message ?? "",
    ...(opts.wide ? [source, String(s?.inventory?.length ?? 0)] : []),
  ];
}
