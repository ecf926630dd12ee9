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
  /** The limits the workload has now; undefined when the provider cannot tell. */
  resources?: WorkloadResources;
  /** The controller URL the workload's agent was given; undefined when the provider cannot tell. */
  controllerUrl?: string;
}

export interface WorkloadProvider {
  readonly name: string;
  /**
   * The workloads carrying these owners' marks (adoption after a crash), in one call for
   * many owners so that callers can batch; owners without a workload are simply absent.
   * Read-only.
   */
  observe(owners: readonly Owner[]): Promise<ObservedWorkload[]>;
  /** Creates and starts the workload. Must not be called when observe() found one. */
  create(desired: DesiredWorkload): Promise<ObservedWorkload>;
  /** Starts a stopped workload (e.g. its agent died). */
  start(id: string): Promise<ObservedWorkload>;
  /**
   * Brings an existing workload in line with `desired` without re-creating it: limits
   * (cores, memory, disk where the backend can grow it) and the agent's connection (a new
   * controller URL or token is re-delivered to the running agent). Returns the result.
   */
  update(id: string, desired: DesiredWorkload): Promise<ObservedWorkload>;
  /** Stops and removes the workload; a missing workload is success. */
  delete(id: string): Promise<void>;
  /** Every workload that carries an owner mark (for the garbage-collection sweep). */
  list(): Promise<ObservedWorkload[]>;
}
