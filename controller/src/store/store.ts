// The persistence contract the API server builds on. Only the API server touches a Store;
// everything else goes through the REST API.
//
// The interface is synchronous on purpose: every read-check-write the API server does
// (resourceVersion preconditions, finalizer bookkeeping, no-op detection) then runs in one
// turn of the event loop, so concurrent requests cannot interleave without any locking.
import type { LabelSelector } from "./label-selector.js";

export interface ObjectMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [key: string]: unknown;
}

/** Any Kubernetes-shaped object as stored: the API layer owns its semantics. */
export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMetadata;
  [key: string]: unknown;
}

export type StoreEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: StoreEventType;
  /** The collection the object lives in, e.g. "gameservers.zerolaghub.dev". */
  resource: string;
  /** The object after the change (for DELETED: its last state, with the delete's resourceVersion). */
  object: StoredObject;
  /** The object before the change (MODIFIED only): watches need it to turn label transitions into ADDED/DELETED. */
  previous?: StoredObject;
  resourceVersion: number;
}

export type StoreErrorReason = "NotFound" | "AlreadyExists" | "Conflict";

export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface ListOptions {
  /** Omit for every namespace. */
  namespace?: string;
  labelSelector?: LabelSelector;
}

export interface ListResult {
  items: StoredObject[];
  /** The store's resourceVersion at the time of the list: a watch from here misses nothing. */
  resourceVersion: string;
}

/**
 * Result of asking for the events after a resourceVersion: the retained events, or
 * `expired` when that version is older than the history window (or not one this
 * store ever issued), in which case the caller must relist.
 */
export type HistoryResult = { expired: false; events: StoreEvent[] } | { expired: true; oldest: number };

export interface Store {
  get(resource: string, namespace: string, name: string): StoredObject | undefined;
  list(resource: string, options?: ListOptions): ListResult;
  /** Stores a new object, assigning its resourceVersion; AlreadyExists if the name is taken. */
  create(resource: string, object: StoredObject): StoredObject;
  /**
   * Replaces an existing object, assigning a new resourceVersion. NotFound if absent,
   * Conflict if `expectedResourceVersion` is given and differs from the stored one.
   */
  update(resource: string, object: StoredObject, expectedResourceVersion?: string): StoredObject;
  /** Removes an object and returns its last state; NotFound / Conflict as for update. */
  delete(resource: string, namespace: string, name: string, expectedResourceVersion?: string): StoredObject;
  /** Deletes the oldest objects (by resourceVersion) of one namespace beyond `keep`; returns how many went. */
  pruneOldest(resource: string, namespace: string, keep: number): number;
  /** Number of stored objects, of one resource or of all. */
  count(resource?: string): number;
  /** Distinct namespaces holding at least one object. */
  namespaces(): string[];
  /** The newest resourceVersion issued. */
  resourceVersion(): number;
  /** Retained events with resourceVersion greater than `after`, of one resource or of all. */
  eventsSince(after: number, resource?: string): HistoryResult;
  /** Calls `listener` synchronously after every committed change; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
  close(): void;
}
