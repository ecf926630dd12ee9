// How a Sync marks what it applied. Two labels (the Sync's namespace and name) instead of
// one `ns.name` value, since a label value holds at most 63 characters. Pruning only ever
// touches objects carrying both: never anything applied by hand or by another Sync.
import type { SyncInventoryEntry } from "../../../schemas/generated/types.js";

export const SYNC_NAME_LABEL = "sync.zerolaghub.dev/name";
export const SYNC_NAMESPACE_LABEL = "sync.zerolaghub.dev/namespace";
/** Set by `zlh sync reconcile` (Flux: reconcile.fluxcd.io/requestedAt): a change asks for a run now. */
export const REQUESTED_AT_ANNOTATION = "reconcile.zerolaghub.dev/requestedAt";

export interface SyncRef {
  namespace: string;
  name: string;
}

export function inventoryLabels(sync: SyncRef): Record<string, string> {
  return { [SYNC_NAMESPACE_LABEL]: sync.namespace, [SYNC_NAME_LABEL]: sync.name };
}

export function inventorySelector(sync: SyncRef): string {
  return `${SYNC_NAMESPACE_LABEL}=${sync.namespace},${SYNC_NAME_LABEL}=${sync.name}`;
}

/** Which Sync, if any, an object's labels say it belongs to. */
export function ownerSync(labels: Record<string, string> | undefined): SyncRef | undefined {
  const namespace = labels?.[SYNC_NAMESPACE_LABEL];
  const name = labels?.[SYNC_NAME_LABEL];
  return namespace && name ? { namespace, name } : undefined;
}

export function entryKey(e: Pick<SyncInventoryEntry, "kind" | "namespace" | "name">): string {
  return `${e.kind}/${e.namespace}/${e.name}`;
}
