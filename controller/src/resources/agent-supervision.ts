// Agents that stop reporting produce no event of their own, so a sweep looks every
// heartbeat. Two things wake a resource:
// - its AgentReady changed (3 missed beats: False; reports again: True), as before;
// - its agent has been silent (no report, or no report yet) for a whole missed-heartbeat
//   window: the reconcile then observes the workload for real (the observed-state cache
//   cannot know an agent died) and starts it if nothing runs. This repeats every window,
//   so a replacement agent that dies before its first report is replaced too, within a
//   few heartbeats instead of at the 10-minute resync.
import type { AgentReportStore } from "../agent-endpoint/agent-report-store.js";
import type { Owner } from "../providers/owner.js";

export interface SupervisedResource {
  key: string;
  owner: Owner;
}

export interface AgentSupervisorOptions {
  reports: AgentReportStore;
  heartbeatSeconds: number;
  missedHeartbeats: number;
  /** Resources that should have a running agent (provisioned, not being deleted). */
  resources(): Iterable<SupervisedResource>;
  enqueue(key: string): void;
  /** Make the next observe of this owner's workload ask the provider. */
  invalidate(owner: Owner): void;
}

export class AgentSupervisor {
  private readonly lastReady = new Map<string, string>();
  private readonly silentSince = new Map<string, number>();
  private readonly lastNudge = new Map<string, number>();

  constructor(private readonly o: AgentSupervisorOptions) {}

  /** One sweep at `now` (controller clock); returns the keys it woke because their agent is silent. */
  tick(now: number): string[] {
    const windowMs = this.o.missedHeartbeats * this.o.heartbeatSeconds * 1000;
    const seen = new Set<string>();
    const nudged: string[] = [];
    for (const { key, owner } of this.o.resources()) {
      seen.add(key);
      const ready = this.o.reports.agentReady(key, now, this.o.heartbeatSeconds, this.o.missedHeartbeats);
      const changed = this.lastReady.has(key) && this.lastReady.get(key) !== ready.status;
      this.lastReady.set(key, ready.status);
      if (ready.status === "True") {
        this.silentSince.delete(key);
        this.lastNudge.delete(key);
        if (changed) this.o.enqueue(key);
        continue;
      }
      // Silent since its last report, or since we first noticed it has none.
      const since = this.o.reports.get(key)?.receivedAt ?? this.silentSince.get(key) ?? now;
      this.silentSince.set(key, since);
      const last = this.lastNudge.get(key);
      const due = now - since >= windowMs && (last === undefined || now - last >= windowMs);
      if (due) {
        this.lastNudge.set(key, now);
        this.o.invalidate(owner);
        nudged.push(key);
      }
      if (due || changed) this.o.enqueue(key);
    }
    for (const map of [this.lastReady, this.silentSince, this.lastNudge]) for (const k of map.keys()) if (!seen.has(k)) map.delete(k);
    return nudged;
  }
}
