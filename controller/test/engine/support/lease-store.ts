// An in-memory Lease API with resourceVersion conflicts, shared by several
// electors to simulate replicas racing for one Lease.

import type { V1Lease } from "@kubernetes/client-node";
import { ConflictError, type LeaseClient } from "../../../src/engine/lease-client.js";

export class LeaseStore {
  private stored: V1Lease | undefined;
  private rv = 0;
  readonly writes: V1Lease[] = [];

  current(): V1Lease | undefined {
    return this.stored && roundTrip(this.stored);
  }

  /** Seeds a lease as if written by another process. */
  seed(lease: V1Lease): void {
    this.stored = roundTrip({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } });
  }

  get(namespace: string, name: string): V1Lease | undefined {
    const s = this.stored;
    return s && s.metadata?.namespace === namespace && s.metadata?.name === name ? roundTrip(s) : undefined;
  }

  create(lease: V1Lease): V1Lease {
    if (this.stored) throw new ConflictError("already exists");
    return this.write(lease);
  }

  replace(lease: V1Lease): V1Lease {
    if (!this.stored) throw new Error("not found");
    if (lease.metadata?.resourceVersion !== this.stored.metadata?.resourceVersion) {
      throw new ConflictError("resourceVersion is stale");
    }
    return this.write(lease);
  }

  private write(lease: V1Lease): V1Lease {
    this.stored = roundTrip({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } });
    this.writes.push(this.stored);
    return roundTrip(this.stored);
  }
}

export interface ClientControls {
  /** While true, every call fails like an unreachable API server. */
  partitioned: boolean;
  /** While true, calls never answer (a hung connection). */
  hanging: boolean;
  /** When set, get() waits for this promise (to line up races). */
  beforeGet?: () => Promise<void>;
}

export function leaseClient(store: LeaseStore): LeaseClient & { controls: ClientControls } {
  const controls: ClientControls = { partitioned: false, hanging: false };
  const call = async <R>(op: () => R): Promise<R> => {
    if (controls.hanging) return new Promise<R>(() => {});
    if (controls.partitioned) throw new Error("connect ECONNREFUSED");
    return op();
  };
  return {
    controls,
    async get(ns, name) {
      await controls.beforeGet?.();
      return call(() => store.get(ns, name));
    },
    create: (lease) => call(() => store.create(lease)),
    replace: (lease) => call(() => store.replace(lease)),
  };
}

// What the API server would hand back: JSON, so times become strings.
function roundTrip(lease: V1Lease): V1Lease {
  return JSON.parse(JSON.stringify(lease)) as V1Lease;
}
