// The one reconcile function for both kinds: level-triggered and idempotent. Kind
// differences live in plan/ (pure); this file only sequences provider calls and status.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { ResourceStatus } from "../../../schemas/generated/types.js";
import { agentReportKey, type AgentReportStore } from "../agent-endpoint/agent-report-store.js";
import type { Clock } from "../engine/clock.js";
import type { ReconcileResult } from "../engine/controller-loop.js";
import { derivePhase, readyCondition, setCondition, type ConditionInput } from "../plan/conditions.js";
import { desiredRecords, isEmpty, planDns, type DnsTargetKind } from "../plan/dns.js";
import { devUrls, endpoints } from "../plan/endpoints.js";
import { minecraftSrvName } from "../plan/hostnames.js";
import { FINALIZER, ownerOf, pluralOf, type PlanSettings, type Placement, type ZlhResource } from "../plan/resource.js";
import { desiredRoute, routeName } from "../plan/routes.js";
import { desiredWorkload } from "../plan/workload.js";
import type { DnsProvider } from "../providers/dns/types.js";
import { ownerMark } from "../providers/owner.js";
import type { RouteProvider } from "../providers/routing/types.js";
import type { ObservedWorkload, WorkloadProvider } from "../providers/workload/types.js";
import type { Allocator } from "./allocator.js";
import type { ResourceWriter } from "./api-client.js";
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

/** Status lastHeartbeat is refreshed at most this often: heartbeats live in memory. */
const HEARTBEAT_WRITE_MS = 60_000;

/** The work-queue key, which is also the key agent reports are stored under. */
export function resourceKey(r: ZlhResource): string {
  return agentReportKey(pluralOf(r.kind), r.metadata.namespace ?? "default", r.metadata.name);
}

export function makeReconciler(d: ReconcilerDeps) {
  return async function reconcile(key: string): Promise<ReconcileResult> {
    const obj = d.get(key);
    if (!obj) {
      d.allocator.release(key);
      d.reports.delete(key);
      return {};
    }
    if (obj.metadata.deletionTimestamp) return finalize(key, obj);
    if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) {
      await d.writer.replace({ ...obj, metadata: { ...obj.metadata, finalizers: [...(obj.metadata.finalizers ?? []), FINALIZER] } });
      return {};
    }
    // Ids are persisted before anything exists that carries them.
    const ids = d.allocator.assign(key, obj);
    if (obj.status?.vmid !== ids.vmid || !isDeepStrictEqual(obj.status?.ports ?? [], ids.ports)) {
      const status = withConditions(obj, { ...obj.status, vmid: ids.vmid, ports: ids.ports }, []);
      await d.writer.replaceStatus(obj, status);
      return {};
    }
    return converge(key, obj, ids.vmid);
  };

  async function converge(key: string, obj: ZlhResource, vmid: number): Promise<ReconcileResult> {
    const conditions: ConditionInput[] = [];
    const log = d.logger.child({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
    let failure: Error | undefined;
    let workload: ObservedWorkload | undefined;
    let waitingForAddress = false;
    const step = async (type: ConditionInput["type"], failedReason: string, run: () => Promise<ConditionInput | undefined>) => {
      if (failure || waitingForAddress) return conditions.push({ type, status: "Unknown", reason: "Waiting", message: "waiting for an earlier step" });
      try {
        const c = await run();
        if (c) conditions.push(c);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        const reason = (err as { reason?: string }).reason === "Conflict" ? failedReason.replace(/Failed$/, "Conflict") : failedReason;
        conditions.push({ type, status: "False", reason, message: failure.message });
        log.warn({ provider: type, err: failure.message }, "provider step failed");
      }
    };

    await step("WorkloadReady", "WorkloadFailed", async () => {
      const p = d.providers.workload;
      workload = (await p.observe([ownerOf(obj)]))[0];
      if (!workload) {
        workload = await p.create(desiredWorkload(obj, vmid, { controllerUrl: d.agentUrl, token: d.agentToken(obj) }));
        d.events.record(obj, "Normal", "WorkloadCreated", `created workload ${workload.id} on ${workload.node}`);
      } else if (!workload.running) {
        workload = await p.start(workload.id);
        d.events.record(obj, "Normal", "WorkloadStarted", `started workload ${workload.id}`);
      }
      if (!workload.ip) {
        waitingForAddress = true;
        return { type: "WorkloadReady", status: "False", reason: "WaitingForAddress", message: "waiting for the workload's address" };
      }
      return { type: "WorkloadReady", status: "True", reason: "Running", message: `workload ${workload.id} on ${workload.node}` };
    });
    const at: Placement = { vmid, ports: obj.status?.ports ?? [], ip: workload?.ip ?? "" };

    await step("DNSReady", "DNSFailed", async () => {
      const mark = ownerMark(ownerOf(obj));
      let published: string[] = [];
      for (const { provider, target } of d.providers.dns) {
        const desired = desiredRecords(obj, at, d.settings, target);
        const observed = await provider.observe(dnsNames(obj, desired.map((r) => r.name)));
        const plan = planDns(desired, observed, mark);
        const where = d.providers.dns.length > 1 ? ` in ${provider.name}` : "";
        if (plan.conflicts.length > 0) throw Object.assign(new Error(plan.conflicts.map((c) => c + where).join("; ")), { reason: "Conflict" });
        if (!isEmpty(plan.changes)) {
          await provider.apply(plan.changes);
          d.events.record(obj, "Normal", "DNSUpdated", `published ${desired.map((r) => `${r.type} ${r.name}`).join(", ")}${where}`);
        }
        published = desired.map((r) => `${r.type} ${r.name}`);
      }
      return { type: "DNSReady", status: "True", reason: "Published", message: published.join(", ") };
    });

    await step("RouteReady", "RouteFailed", async () => {
      const desired = desiredRoute(obj, at, d.settings);
      const name = routeName(obj);
      const observed = (await d.providers.routing.observe([name]))[0];
      if (!desired) {
        if (observed?.ownerMark === ownerMark(ownerOf(obj))) await d.providers.routing.delete(name);
        return { type: "RouteReady", status: "True", reason: "NothingToRoute", message: "no port is published through the edge" };
      }
      // The file name is derived from kind, namespace and name, which hyphens can make
      // ambiguous: a file someone else owns is a conflict, never ours to overwrite.
      if (observed && observed.ownerMark !== desired.ownerMark) {
        throw Object.assign(new Error(`Traefik route ${name} exists and is owned by ${observed.ownerMark ?? "someone else (no owner mark)"}`), { reason: "Conflict" });
      }
      if (!observed || !isDeepStrictEqual(observed.config, desired.config)) {
        await d.providers.routing.apply(desired);
        d.events.record(obj, "Normal", "RouteWritten", `wrote Traefik route ${name}`);
      }
      return { type: "RouteReady", status: "True", reason: "Written", message: `Traefik route ${name}` };
    });

    conditions.push(agentCondition(key));
    const status = agentStatus(key, obj, {
      ...obj.status,
      vmid,
      workload: workload ? { id: workload.id, node: workload.node, ...(workload.ip ? { ip: workload.ip } : {}) } : obj.status?.workload,
      endpoints: at.ip ? endpoints(obj, at, d.settings) : obj.status?.endpoints ?? [],
    });
    if (obj.kind === "DevEnvironment" && status.endpoints) status.urls = devUrls(status.endpoints);
    // An agent still running an older spec is not Running yet as far as this spec goes.
    const ran = d.reports.get(key)?.report.generation;
    const behind = ran !== undefined && ran < (obj.metadata.generation ?? 0) && status.agent?.state === "running";
    const next = withConditions(obj, status, conditions, behind ? "starting" : status.agent?.state);
    if (!isDeepStrictEqual(next, obj.status)) {
      await d.writer.replaceStatus(obj, next);
      // Only after the write: a conflict or a stale cache would otherwise record them twice.
      recordAgentEvents(obj, obj.status, next);
    }
    if (failure) throw failure;
    return waitingForAddress ? { requeueAfterMs: 1000 } : {};
  }

  /** What the agent did since the last status, as events for `zlh describe`. */
  function recordAgentEvents(obj: ZlhResource, before: ResourceStatus | undefined, after: ResourceStatus): void {
    const was = before?.agent;
    const now = after.agent;
    if (!now || now.state === was?.state && now.restarts === was?.restarts) return;
    if ((now.restarts ?? 0) > (was?.restarts ?? 0)) d.events.record(obj, "Warning", "ServerRestarted", `server restarted (${now.restarts} restarts)${now.message ? `: ${now.message}` : ""}`);
    if (now.state === "error") d.events.record(obj, "Warning", "ServerFailed", after.provisioningError ?? now.message ?? "the agent gave up on the server");
    else if (now.state === "running" && was?.state !== "running") d.events.record(obj, "Normal", "ServerRunning", `server running${now.pid ? ` (pid ${now.pid})` : ""}`);
  }

  function agentCondition(key: string): ConditionInput {
    const r = d.reports.agentReady(key, d.clock.now(), d.heartbeatSeconds, d.missedHeartbeats);
    // The store's message counts seconds; status must stay byte-stable between reconciles.
    const message = r.reason === "HeartbeatMissed" ? `missed ${d.missedHeartbeats} heartbeats (every ${d.heartbeatSeconds}s)` : r.message;
    return { type: "AgentReady", status: r.status, reason: r.reason, message };
  }

  function agentStatus(key: string, obj: ZlhResource, status: ResourceStatus): ResourceStatus {
    const stored = d.reports.get(key);
    if (!stored) return status;
    const { report, receivedAt } = stored;
    const old = obj.status?.agent?.lastHeartbeat;
    const lastHeartbeat = old && receivedAt - Date.parse(old) < HEARTBEAT_WRITE_MS ? old : new Date(receivedAt).toISOString();
    const out: ResourceStatus = {
      ...status,
      agent: {
        state: report.state,
        lastHeartbeat,
        restarts: report.restarts,
        version: report.version,
        ...(report.pid !== undefined ? { pid: report.pid } : {}),
        ...(report.message !== undefined ? { message: report.message } : {}),
      },
      provisioningComplete: report.provisioningComplete,
    };
    if (report.provisioningError !== undefined) out.provisioningError = report.provisioningError;
    else delete out.provisioningError;
    return out;
  }

  function withConditions(obj: ZlhResource, status: ResourceStatus, inputs: ConditionInput[], agentState = status.agent?.state): ResourceStatus {
    const now = new Date(d.clock.now()).toISOString();
    const generation = obj.metadata.generation ?? 0;
    let conditions = status.conditions ?? [];
    for (const c of inputs) conditions = setCondition(conditions, c, now, generation);
    if (inputs.length > 0) conditions = setCondition(conditions, readyCondition(conditions, agentState), now, generation);
    const deleting = obj.metadata.deletionTimestamp !== undefined;
    return { ...status, conditions, observedGeneration: generation, phase: derivePhase(conditions, agentState, deleting) };
  }

  /** Names whose records we may hold: the desired ones plus those published before a rename. */
  function dnsNames(obj: ZlhResource, desired: string[]): string[] {
    const names = new Set(desired);
    for (const e of obj.status?.endpoints ?? []) {
      names.add(e.host);
      if (obj.kind === "GameServer") names.add(minecraftSrvName(e.host));
    }
    return [...names];
  }

  async function finalize(key: string, obj: ZlhResource): Promise<ReconcileResult> {
    if (!(obj.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    if (obj.status?.phase !== "Terminating") {
      await d.writer.replaceStatus(obj, { ...obj.status, phase: "Terminating" });
      return {};
    }
    // Reverse order of creation: stop routing traffic, unpublish names, then remove the workload.
    const name = routeName(obj);
    const mark = ownerMark(ownerOf(obj));
    if ((await d.providers.routing.observe([name]))[0]?.ownerMark === mark) await d.providers.routing.delete(name);
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
    d.events.record(obj, "Normal", "CleanedUp", "route, DNS records and workload removed");
    await d.writer.replace({ ...obj, metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) } });
    d.allocator.release(key);
    d.reports.delete(key);
    return {};
  }
}
