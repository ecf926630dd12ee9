// Hands out vmids and public ports. Ids are persisted in status before anything is
// created; this in-memory index (fed from the informer) only keeps two workers from
// picking the same number before the cache shows the other's write.
import type { AllocatedPort, ResourceStatus } from "../../../schemas/generated/types.js";
import { FreeNumbers, type Range } from "../plan/allocation.js";
import { wantedPorts, type ZlhResource } from "../plan/resource.js";

interface Held {
  vmid?: number;
  publicPorts: number[];
}

export class AllocationError extends Error {
  readonly reason = "AllocationFailed";
}

export class Allocator {
  private readonly held = new Map<string, Held>();
  private readonly vmidOwner = new Map<number, string>();
  private readonly portOwner = new Map<number, string>();
  private readonly freeVmids: FreeNumbers;
  private readonly freePorts: FreeNumbers;

  constructor(private readonly vmids: Range, private readonly publicPorts: Range) {
    this.freeVmids = new FreeNumbers(vmids, this.vmidOwner);
    this.freePorts = new FreeNumbers(publicPorts, this.portOwner);
  }

  /** Records what a stored object already holds (from the informer, before workers start). */
  observe(key: string, status: ResourceStatus | undefined): void {
    const vmid = status?.vmid;
    const ports = (status?.ports ?? []).flatMap((p) => (p.publicPort === undefined ? [] : [p.publicPort]));
    if (vmid === undefined && ports.length === 0) return;
    this.set(key, { vmid, publicPorts: ports });
  }

  release(key: string): void {
    this.set(key, undefined);
  }

  /**
   * The ids this resource should hold: what status has, plus new numbers for what is missing.
   * Public ports are kept by port name so a spec edit does not move existing players.
   */
  assign(key: string, r: ZlhResource): { vmid: number; ports: AllocatedPort[] } {
    const current = r.status;
    const vmid = current?.vmid ?? this.held.get(key)?.vmid ?? this.take(this.vmidOwner, this.freeVmids, this.vmids, key, "vmid");
    const previous = new Map((current?.ports ?? []).map((p) => [`${p.name}/${p.protocol}`, p.publicPort]));
    // Ports held but not yet recorded in status (a write that lost a race); never one a
    // recorded port already uses.
    const recorded = new Set(previous.values());
    const reserved = (this.held.get(key)?.publicPorts ?? []).filter((p) => !recorded.has(p));
    const ports = wantedPorts(r).map((p): AllocatedPort => {
      if (p.protocol === "http") return p;
      const publicPort = previous.get(`${p.name}/${p.protocol}`) ?? reserved.shift() ?? this.take(this.portOwner, this.freePorts, this.publicPorts, key, "public port");
      this.portOwner.set(publicPort, key);
      return { ...p, publicPort };
    });
    this.set(key, { vmid, publicPorts: ports.flatMap((p) => (p.publicPort === undefined ? [] : [p.publicPort])) });
    return { vmid, ports };
  }

  private take(owner: Map<number, string>, free: FreeNumbers, range: Range, key: string, what: string): number {
    const n = free.lowest();
    if (n === undefined) throw new AllocationError(`no free ${what} in ${range.from}-${range.to}`);
    owner.set(n, key);
    return n;
  }

  private set(key: string, next: Held | undefined): void {
    const old = this.held.get(key);
    if (old?.vmid !== undefined && this.vmidOwner.get(old.vmid) === key) {
      this.vmidOwner.delete(old.vmid);
      this.freeVmids.released(old.vmid);
    }
    for (const p of old?.publicPorts ?? []) {
      if (this.portOwner.get(p) !== key) continue;
      this.portOwner.delete(p);
      this.freePorts.released(p);
    }
    if (!next) {
      this.held.delete(key);
      return;
    }
    this.held.set(key, next);
    if (next.vmid !== undefined) this.vmidOwner.set(next.vmid, key);
    for (const p of next.publicPorts) this.portOwner.set(p, key);
  }
}
