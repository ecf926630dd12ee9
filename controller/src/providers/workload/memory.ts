// The workload twin: same ids, addresses and refusals as the local provider (workload-rules.ts),
// no processes, plus hooks for reconciler tests (inject failures, crash an agent, count writes).
import { FailureInjector } from "../failure-injection.js";
import { ownerMark, type Owner } from "../owner.js";
import { ProviderError, type ProviderErrorReason } from "../provider-error.js";
import type { DesiredWorkload, ObservedWorkload, WorkloadProvider, WorkloadResources } from "./types.js";
import { assertValidDesired, assertWorkloadId, workloadId, workloadIp } from "./workload-rules.js";

export interface MemoryWorkload extends ObservedWorkload {
  hostname: string;
  resources: WorkloadResources;
  controllerUrl: string;
  token: string;
  /** How many times an agent was started (create counts as the first). */
  starts: number;
}

export class MemoryWorkloadProvider implements WorkloadProvider {
  readonly name = "memory";
  /** Calls that changed something (create, a start that started, a delete that deleted). */
  writes = 0;
  private readonly state = new Map<string, MemoryWorkload>();
  private readonly failures = new FailureInjector();
  private readonly node: string;
  /** The twin's loopback block (see address-block.ts); it binds nothing, so a fixed one is safe. */
  readonly addressBlock: number;

  constructor(options: { node?: string; addressBlock?: number } = {}) {
    this.node = options.node ?? "memory";
    this.addressBlock = options.addressBlock ?? 77;
  }

  failNext(n: number, message: string, options?: { reason?: ProviderErrorReason; methods?: readonly string[] }): void {
    this.failures.failNext(n, message, options);
  }

  setFailing(message: string | undefined, reason?: ProviderErrorReason): void {
    this.failures.setFailing(message, reason);
  }

  /** Simulates the agent dying: the workload stays, `running` turns false. */
  crash(id: string): void {
    const w = this.state.get(id);
    if (!w) throw new ProviderError("NotFound", `workload ${id} does not exist`);
    w.running = false;
  }

  /** Every workload with everything the provider was given (including the token). */
  workloads(): MemoryWorkload[] {
    return [...this.state.values()].map((w) => structuredClone(w));
  }

  async observe(owners: readonly Owner[]): Promise<ObservedWorkload[]> {
    this.failures.check("observe");
    const marks = new Set(owners.map(ownerMark));
    return [...this.state.values()].filter((x) => marks.has(x.ownerMark)).map(observed);
  }

  async create(desired: DesiredWorkload): Promise<ObservedWorkload> {
    this.failures.check("create");
    assertValidDesired(desired);
    const mark = ownerMark(desired.owner);
    for (const w of this.state.values()) {
      if (w.ownerMark === mark) throw new ProviderError("Conflict", `workload for ${mark} already exists as ${w.id}`);
      if (w.vmid === desired.vmid) throw new ProviderError("Conflict", `vmid ${desired.vmid} is already used by workload ${w.id}`);
    }
    const id = workloadId(desired.owner, desired.vmid);
    const w: MemoryWorkload = {
      id,
      vmid: desired.vmid,
      node: this.node,
      ip: workloadIp(desired.vmid, this.addressBlock),
      running: true,
      ownerMark: mark,
      hostname: desired.hostname,
      resources: { ...desired.resources },
      controllerUrl: desired.agent.controllerUrl,
      token: desired.agent.token,
      starts: 1,
    };
    this.state.set(id, w);
    this.writes += 1;
    return observed(w);
  }

  async start(id: string): Promise<ObservedWorkload> {
    this.failures.check("start");
    assertWorkloadId(id);
    const w = this.state.get(id);
    if (!w) throw new ProviderError("NotFound", `workload ${id} does not exist`);
    if (!w.running) {
      w.running = true;
      w.starts += 1;
      this.writes += 1;
    }
    return observed(w);
  }

  async update(id: string, desired: DesiredWorkload): Promise<ObservedWorkload> {
    this.failures.check("update");
    assertWorkloadId(id);
    assertValidDesired(desired);
    const w = this.state.get(id);
    if (!w) throw new ProviderError("NotFound", `workload ${id} does not exist`);
    if (w.ownerMark !== ownerMark(desired.owner)) throw new ProviderError("Conflict", `workload ${id} belongs to ${w.ownerMark}`);
    const changed = JSON.stringify(w.resources) !== JSON.stringify(desired.resources) || w.controllerUrl !== desired.agent.controllerUrl || w.token !== desired.agent.token;
    if (changed) {
      w.resources = { ...desired.resources };
      w.controllerUrl = desired.agent.controllerUrl;
      w.token = desired.agent.token;
      this.writes += 1;
    }
    return observed(w);
  }

  async delete(id: string): Promise<void> {
    this.failures.check("delete");
    assertWorkloadId(id);
    if (this.state.delete(id)) this.writes += 1;
  }

  async list(): Promise<ObservedWorkload[]> {
    this.failures.check("list");
    return [...this.state.values()].map(observed);
  }
}

function observed(w: MemoryWorkload): ObservedWorkload {
  return { id: w.id, vmid: w.vmid, node: w.node, ip: w.ip, running: w.running, ownerMark: w.ownerMark, resources: { ...w.resources }, controllerUrl: w.controllerUrl };
}
