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
  // Indexes, so observe and create cost the same at 10,000 workloads as at 10.
  private readonly idByMark = new Map<string, string>();
  private readonly idByVmid = new Map<number, string>();
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
    const out: ObservedWorkload[] = [];
    for (const mark of new Set(owners.map(ownerMark))) {
      const w = this.state.get(this.idByMark.get(mark) ?? "");
      if (w) out.push(observed(w));
    }
    return out;
  }

  async create(desired: DesiredWorkload): Promise<ObservedWorkload> {
    this.failures.check("create");
    assertValidDesired(desired);
    const mark = ownerMark(desired.owner);
    const sameOwner = this.idByMark.get(mark);
    if (sameOwner) throw new ProviderError("Conflict", `workload for ${mark} already exists as ${sameOwner}`);
    const sameVmid = this.idByVmid.get(desired.vmid);
    if (sameVmid) throw new ProviderError("Conflict", `vmid ${desired.vmid} is already used by workload ${sameVmid}`);
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
    this.idByMark.set(mark, id);
    this.idByVmid.set(w.vmid, id);
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
    const w = this.state.get(id);
    if (!w) return;
    this.state.delete(id);
    this.idByMark.delete(w.ownerMark);
    this.idByVmid.delete(w.vmid);
    this.writes += 1;
  }

  async list(): Promise<ObservedWorkload[]> {
    this.failures.check("list");
    return [...this.state.values()].map(observed);
  }
}

function observed(w: MemoryWorkload): ObservedWorkload {
  return { id: w.id, vmid: w.vmid, node: w.node, ip: w.ip, running: w.running, ownerMark: w.ownerMark, resources: { ...w.resources }, controllerUrl: w.controllerUrl };
}
