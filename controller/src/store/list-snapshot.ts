// A list as it was at an earlier resourceVersion, rebuilt from the current rows and the
// change history since then: every object changed after that version is replaced by its
// state at that version (or dropped, if it did not exist yet). This gives `continue`
// tokens Kubernetes' guarantee (every page shows the collection at one version) on a store
// that keeps only the newest state of each row.
import { matchesLabels, type LabelSelector } from "./label-selector.js";
import type { ListedItem, StoreEvent, StoredObject } from "./store.js";

export interface SnapshotScope {
  namespace?: string;
  labelSelector: LabelSelector;
  /** Only keys after this one. */
  after?: { namespace: string; name: string };
}

const keyOf = (namespace: string, name: string): string => `${namespace}\u0000${name}`;

function compareKeys(a: ListedItem, b: ListedItem): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function inScope(scope: SnapshotScope, object: StoredObject): boolean {
  const namespace = object.metadata.namespace ?? "";
  if (scope.namespace !== undefined && namespace !== scope.namespace) return false;
  const a = scope.after;
  if (a && (namespace < a.namespace || (namespace === a.namespace && object.metadata.name <= a.name))) return false;
  return matchesLabels(scope.labelSelector, object.metadata.labels);
}

/** The state at the snapshot of every object changed after it: `null` when it did not exist then. */
export function statesAtSnapshot(changesSince: readonly StoreEvent[]): Map<string, StoredObject | null> {
  const states = new Map<string, StoredObject | null>();
  for (const e of changesSince) {
    const key = keyOf(e.object.metadata.namespace ?? "", e.object.metadata.name);
    // The first change after the snapshot tells what the object was at the snapshot.
    if (!states.has(key)) states.set(key, e.type === "ADDED" ? null : (e.previous ?? null));
  }
  return states;
}

/**
 * Rolls `current` (rows in key order, already filtered by scope, at least `limit` +
 * `states.size` + 1 of them when that many exist) back to the snapshot.
 */
export function rollBack(current: readonly ListedItem[], states: Map<string, StoredObject | null>, scope: SnapshotScope, limit?: number): { items: ListedItem[]; more: boolean } {
  const items = current.filter((i) => !states.has(keyOf(i.namespace, i.name)));
  for (const state of states.values()) {
    if (state && inScope(scope, state)) items.push({ namespace: state.metadata.namespace ?? "", name: state.metadata.name, json: JSON.stringify(state) });
  }
  items.sort(compareKeys);
  if (limit === undefined || items.length <= limit) return { items, more: false };
  return { items: items.slice(0, limit), more: true };
}
