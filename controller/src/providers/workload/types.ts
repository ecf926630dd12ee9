import type { Owner } from "../owner.js";

export interface WorkloadResources {
  cpu: number;
  memoryMiB: number;
  diskGiB: number;
}

/** What the reconciler wants to exist. Plain data: providers never see the resource itself. */
export interface DesiredWorkload {
  owner: Owner;
  vmid: number;
  /** Container hostname (the resource's host label). */
  hostname: string;
  resources: WorkloadResources;
  agent: {
    /** Base URL of the controller's agent endpoint. */
    controllerUrl: string;
    /** Token scoped to this one resource; providers store it as a 0600 file, never in logs. */
    token: string;
  };
}

export interface ObservedWorkload {
  /** Provider-specific id (local: directory name; Proxmox: vmid). */
  id: string;
  vmid: number;
  node: string;
  /** Address the workload's ports are reachable on; undefined until known. */
  ip?: string;
  running: boolean;
  /** The owner mark found on the workload (see owner.ts). */
  ownerMark: string;
}

export interface WorkloadProvider {
  readonly name: string;
  /** The workload carrying this owner's mark, if any (adoption after a crash). Read-only. */
  observe(owner: Owner): Promise<ObservedWorkload | undefined>;
  /** Creates and starts the workload. Must not be called when observe() found one. */
  create(desired: DesiredWorkload): Promise<ObservedWorkload>;
  /** Starts a stopped workload (e.g. its agent died). */
  start(id: string): Promise<ObservedWorkload>;
  /** Stops and removes the workload; a missing workload is success. */
  delete(id: string): Promise<void>;
  /** Every workload that carries an owner mark (for the garbage-collection sweep). */
  list(): Promise<ObservedWorkload[]>;
}
