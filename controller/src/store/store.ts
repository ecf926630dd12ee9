// The persistence contract the API server builds on. Only the API server touches a Store;
// everything else goes through the REST API.
//
// The contract is backend-neutral, so that the embedded SQLite store and a distributed one
// (etcd) can stand behind the same API server and pass the same contract suite
// (controller/test/store/store-contract.ts):
// - resourceVersion is an opaque string holding an increasing integer: every committed
//   change gets a higher one than every change before it, across all resources (etcd's
//   revision; SQLite's counter).
// - Writes are compare-and-swap on resourceVersion: update and delete take the version the
//   caller read, and fail with Conflict if the object changed since. Callers that did not
//   pin a version retry (read, decide, write) as Kubernetes' GuaranteedUpdate does.
// - watch(after) delivers every change after a version in commit order, or Expired (410)
//   when that version is older than what the backend retains (etcd: compacted).
// - Lists can read a consistent snapshot at an earlier version (for `continue` tokens),
//   or fail with Expired once that version is no longer retained.
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
  /**
   * The object before the change, with its own resourceVersion (MODIFIED and DELETED):
   * watches need it to turn label transitions into ADDED/DELETED, snapshots to roll back.
   */
  previous?: StoredObject;
  resourceVersion: number;
}

/**
 * Why a store operation failed. `StorageFull`: the disk or the database's size limit is
 * reached (the API answers 507). `Unavailable`: the backend cannot be reached or is closed
 * (503). `Expired`: the requested resourceVersion is no longer retained (410).
 */
export type StoreErrorReason = "NotFound" | "AlreadyExists" | "Conflict" | "Expired" | "StorageFull" | "Unavailable";

export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Where a paged list continues: the version it was read at and the last key it returned. */
export interface ListContinuation {
  resourceVersion: string;
  namespace: string;
  name: string;
}

export interface ListOptions {
  /** Omit for every namespace. */
  namespace?: string;
  labelSelector?: LabelSelector;
  /** At most this many items (in key order: namespace, then name). */
  limit?: number;
  /** Continue a list: items after this key, as they were at its resourceVersion. */
  continueFrom?: ListContinuation;
}

/** One listed object as its stored JSON text (metadata.resourceVersion included), with its key. */
export interface ListedItem {
  namespace: string;
  name: string;
  json: string;
}

export interface ListResult {
  items: ListedItem[];
  /** The version the list reflects: a watch from here misses nothing. */
  resourceVersion: string;
  /** True when a limit cut the list short and more items follow the last one. */
  more: boolean;
}

export interface UpdateOptions {
  /** The version the caller read; the update fails with Conflict if the object has another. */
  expectedResourceVersion: string;
  /**
   * The object as the caller read it at that version; saves the backend reading it again
   * for the change event. The store keeps it (in history): the caller must not change it.
   */
  previous?: StoredObject;
}

export interface StoreWatch {
  stop(): void;
}

export interface Store {
  get(resource: string, namespace: string, name: string): Promise<StoredObject | undefined>;
  list(resource: string, options?: ListOptions): Promise<ListResult>;
  /** Stores a new object, assigning its resourceVersion; AlreadyExists if the name is taken. */
  create(resource: string, object: StoredObject): Promise<StoredObject>;
  /** Replaces an existing object, assigning a new resourceVersion; NotFound if absent, Conflict on another version. */
  update(resource: string, object: StoredObject, options: UpdateOptions): Promise<StoredObject>;
  /** Removes an object and returns its last state (with the delete's resourceVersion); NotFound / Conflict as for update. */
  delete(resource: string, namespace: string, name: string, expectedResourceVersion?: string): Promise<StoredObject>;
  /**
   * Deletes the oldest objects (by resourceVersion) of one resource, within one namespace
   * or across all, until `keep` remain; returns how many went. Each deletion is a change
   * watchers see.
   */
  pruneOldest(resource: string, keep: number, namespace?: string): Promise<number>;
  /** Number of stored objects, of one resource (and namespace) or of all. */
  count(resource?: string, namespace?: string): Promise<number>;
  /** Distinct namespaces holding at least one object. */
  namespaces(): Promise<string[]>;
  /** The newest resourceVersion issued. */
  resourceVersion(): Promise<string>;
  /**
   * Calls `onEvent` for every change of `resource` with a resourceVersion above `after`, in
   * order: the retained history first, then live changes. Throws (or reports through
   * `onError`) StoreError Expired when `after` is older than the retained history or not a
   * version this store issued.
   */
  watch(resource: string, after: string, onEvent: (event: StoreEvent) => void, onError?: (err: StoreError) => void): StoreWatch;
  close(): Promise<void>;
}
