// The one reconcile function for both kinds: level-triggered and idempotent. Kind
// differences live in plan/ (pure); converge.ts sequences the provider calls and status.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { agentReportKey, type AgentReportStore } from "../agent-endpoint/agent-report-store.js";
import type { Clock } from "../engine/clock.js";
import type { ReconcileResult } from "../engine/controller-loop.js";
import type { DnsTargetKind } from "../plan/dns.js";
import { desiredRecords } from "../plan/dns.js";
import { FINALIZER, ownerOf, pluralOf, type PlanSettings, type Placement, type ZlhResource } from "../plan/resource.js";
import { legacyRouteName, routeName } from "../plan/routes.js";
import type { DnsProvider } from "../providers/dns/types.js";
import { ownerMark } from "../providers/owner.js";
import type { RouteProvider } from "../providers/routing/types.js";
import type { WorkloadProvider } from "../providers/workload/types.js";
import { reportedState } from "./agent-status.js";
import type { Allocator } from "./allocator.js";
import type { ResourceWriter } from "./api-client.js";
import { converge, dnsNames, withConditions } from "./converge.js";
import type { EventRecorder } from "./event-recorder.js";

/** One DNS backend and which address it publishes (see plan/dns.ts). Every record goes to each. */
export interface DnsTarget {
  provider: DnsProvider;
  target: DnsTargetKind;
}

export interface Providers {
  workload: WorkloadProvider;
  dns: readonly DnsTarget[];
  routing: RouteProvider;
}

export interface ReconcilerDeps {
  /** Reads from the informer cache: `<plural>/<namespace>/<name>` → object. */
  get(key: string): ZlhResource | undefined;
  writer: ResourceWriter;
  providers: Providers;
  allocator: Allocator;
  reports: AgentReportStore;
  /** Mints the agent token scoped to one resource. */
  agentToken(r: ZlhResource): string;
  agentUrl: string;
  heartbeatSeconds: number;
  missedHeartbeats: number;
  settings: PlanSettings;
  clock: Clock;
  events: EventRecorder;
  logger: Logger;
}

/** The work-queue key, which is also the key agent reports are stored under. */
export function resourceKey(r: ZlhResource): string {
  return agentReportKey(pluralOf(r.kind), r.metadata.namespace ?? "default", r.metadata.name);
}

export function makeReconciler(d: ReconcilerDeps) {
  return async function reconcile(key: string): Promise<ReconcileResult> {
    let obj = d.get(key);
    if (!obj) {
      d.allocator.release(key);
      d.reports.delete(key);
      return {};
    }
    if (obj.metadata.deletionTimestamp) return finalize(key, obj);
    // Each write returns the stored object, so one reconcile goes on from there instead of
    // waiting for the watch event of its own write.
    if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) {
      obj = await d.writer.replace({ ...obj, metadata: { ...obj.metadata, finalizers: [...(obj.metadata.finalizers ?? []), FINALIZER] } });
    }
    // Ids are persisted before anything exists that carries them.
    const ids = d.allocator.assign(key, obj);
    if (obj.status?.vmid !== ids.vmid || !isDeepStrictEqual(obj.status?.ports ?? [], ids.ports)) {
      const status = withConditions(d, obj, { ...obj.status, vmid: ids.vmid, ports: ids.ports }, [], reportedState(key, d.reports));
      obj = await d.writer.replaceStatus(obj, status);
    }
    return converge(d, key, obj, ids.vmid);
  };

  async function finalize(key: string, obj: ZlhResource): Promise<ReconcileResult> {
    if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    if (obj.status?.phase !== "Terminating") obj = await d.writer.replaceStatus(obj, { ...obj.status, phase: "Terminating" });
    try {
      await cleanUp(obj);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      d.events.record(obj, "Warning", "CleanupFailed", `cleanup failed, will retry: ${message}`);
      throw err;
    }
    await d.writer.replace({ ...obj, metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) } });
    // After the finalizer is gone, so a retried finalize (e.g. after a conflict) cannot say it twice.
    d.events.record(obj, "Normal", "CleanedUp", "route, DNS records and workload removed");
    d.allocator.release(key);
    d.reports.delete(key);
    return {};
  }

  /** Reverse order of creation: stop routing traffic, unpublish names, then remove the workload. */
  async function cleanUp(obj: ZlhResource): Promise<void> {
    const mark = ownerMark(ownerOf(obj));
    for (const route of await d.providers.routing.observe([routeName(obj), legacyRouteName(obj)])) {
      if (route.ownerMark === mark) await d.providers.routing.delete(route.name);
    }
    if (obj.status?.vmid !== undefined) {
      const at: Placement = { vmid: obj.status.vmid, ports: obj.status.ports ?? [], ip: "" };
      const names = dnsNames(obj, desiredRecords(obj, at, d.settings).map((r) => r.name));
      for (const { provider } of d.providers.dns) {
        const ours = (await provider.observe(names)).filter((r) => r.ownerMark === mark);
        if (ours.length > 0) await provider.apply({ create: [], update: [], delete: ours });
      }
    }
    const workload = (await d.providers.workload.observe([ownerOf(obj)]))[0];
    if (workload) await d.providers.workload.delete(workload.id);
  }
}
