// Bringing the world in line with one resource: workload → DNS (needs the IP) → route, then
// status. Each step observes (through the observed-state cache), writes only what differs,
// and says what it did in an event; a failure becomes a False condition and a Warning event.
import { isDeepStrictEqual } from "node:util";
import type { ResourceStatus } from "../../../schemas/generated/types.js";
import type { ReconcileResult } from "../engine/controller-loop.js";
import { derivePhase, readyCondition, setCondition, type AgentState, type ConditionInput } from "../plan/conditions.js";
import { desiredRecords, isEmpty, planDns } from "../plan/dns.js";
import { devUrls, endpoints } from "../plan/endpoints.js";
import { minecraftSrvName } from "../plan/hostnames.js";
import { ownerOf, type Placement, type ZlhResource } from "../plan/resource.js";
import { desiredRoute, legacyRouteName, routeName } from "../plan/routes.js";
import { desiredWorkload } from "../plan/workload.js";
import { ownerMark } from "../providers/owner.js";
import type { DesiredWorkload, ObservedWorkload } from "../providers/workload/types.js";
import { agentCondition, agentStatus, recordAgentEvents, reportedState, type AgentView } from "./agent-status.js";
import type { ReconcilerDeps } from "./reconciler.js";

type Step = ConditionInput["type"];

export async function converge(d: ReconcilerDeps, key: string, obj: ZlhResource, vmid: number): Promise<ReconcileResult> {
  const conditions: ConditionInput[] = [];
  const log = d.logger.child({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
  let failure: Error | undefined;
  let workload: ObservedWorkload | undefined;
  let waitingForAddress = false;
  const step = async (type: Step, failedReason: string, run: () => Promise<ConditionInput>) => {
    if (failure || waitingForAddress) return conditions.push({ type, status: "Unknown", reason: "Waiting", message: "waiting for an earlier step" });
    try {
      conditions.push(await run());
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      const reason = (err as { reason?: string }).reason === "Conflict" ? failedReason.replace(/Failed$/, "Conflict") : failedReason;
      conditions.push({ type, status: "False", reason, message: failure.message });
      d.events.record(obj, "Warning", reason, failure.message);
      log.warn({ provider: type, reason, err: failure.message }, "provider step failed");
    }
  };

  await step("WorkloadReady", "WorkloadFailed", async () => {
    workload = await ensureWorkload(d, obj, desiredWorkload(obj, vmid, { controllerUrl: d.agentUrl, token: d.agentToken(obj) }));
    if (!workload.ip) {
      waitingForAddress = true;
      return { type: "WorkloadReady", status: "False", reason: "WaitingForAddress", message: "waiting for the workload's address" };
    }
    return { type: "WorkloadReady", status: "True", reason: "Running", message: `workload ${workload.id} on ${workload.node}` };
  });
  const at: Placement = { vmid, ports: obj.status?.ports ?? [], ip: workload?.ip ?? "" };
  await step("DNSReady", "DNSFailed", () => ensureRecords(d, obj, at));
  await step("RouteReady", "RouteFailed", () => ensureRoute(d, obj, at));

  const view: AgentView = { reports: d.reports, now: d.clock.now(), heartbeatSeconds: d.heartbeatSeconds, missedHeartbeats: d.missedHeartbeats };
  conditions.push(agentCondition(key, view));
  const status = agentStatus(key, obj, {
    ...obj.status,
    vmid,
    workload: workload ? { id: workload.id, node: workload.node, ...(workload.ip ? { ip: workload.ip } : {}) } : obj.status?.workload,
    endpoints: at.ip ? endpoints(obj, at, d.settings) : obj.status?.endpoints ?? [],
  }, view);
  if (obj.kind === "DevEnvironment" && status.endpoints) status.urls = devUrls(status.endpoints);
  // An agent still running an older spec is not Running yet as far as this spec goes.
  const state = reportedState(key, d.reports);
  const ran = d.reports.get(key)?.report.generation;
  const behind = ran !== undefined && ran < (obj.metadata.generation ?? 0) && state === "running";
  const next = withConditions(d, obj, status, conditions, behind ? "starting" : state);
  if (!isDeepStrictEqual(next, obj.status)) {
    await d.writer.replaceStatus(obj, next);
    // Only after the write: a conflict or a stale cache would otherwise record them twice.
    recordAgentEvents(d.events, obj, obj.status, next);
  }
  if (failure) throw failure;
  return waitingForAddress ? { requeueAfterMs: 1000 } : {};
}

/** The workload exists, runs, and has what `desired` asks for (limits, controller URL, token). */
async function ensureWorkload(d: ReconcilerDeps, obj: ZlhResource, desired: DesiredWorkload): Promise<ObservedWorkload> {
  const p = d.providers.workload;
  let w = (await p.observe([desired.owner]))[0];
  if (!w) {
    w = await p.create(desired);
    d.events.record(obj, "Normal", "WorkloadCreated", `created workload ${w.id} on ${w.node}`);
    return w;
  }
  // Before a start, so a restarted agent already gets the new URL and token.
  const why = updateReasons(w, desired);
  if (why.length > 0) {
    w = await p.update(w.id, desired);
    d.events.record(obj, "Normal", "WorkloadUpdated", `updated workload ${w.id}: ${why.join(", ")}`);
  }
  if (!w.running) {
    w = await p.start(w.id);
    d.events.record(obj, "Normal", "WorkloadStarted", `started workload ${w.id}: its agent was not running`);
  }
  return w;
}

/** Why an existing workload needs `update()`; empty when it does not. */
export function updateReasons(w: ObservedWorkload, desired: DesiredWorkload): string[] {
  const why: string[] = [];
  // A restarted controller may listen elsewhere: re-deliver the URL (and token) to the agent.
  if (w.controllerUrl !== undefined && w.controllerUrl !== desired.agent.controllerUrl) why.push(`controller URL is now ${desired.agent.controllerUrl}`);
  const has = w.resources;
  const want = desired.resources;
  if (has && !isDeepStrictEqual(has, want)) {
    const diff = (["cpu", "memoryMiB", "diskGiB"] as const).filter((k) => has[k] !== want[k]).map((k) => `${k} ${has[k]}→${want[k]}`);
    why.push(`resources ${diff.join(" ")}`);
  }
  return why;
}

async function ensureRecords(d: ReconcilerDeps, obj: ZlhResource, at: Placement): Promise<ConditionInput> {
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
      // Records of ours that were there but differ were changed by someone (or are stale).
      const corrected = plan.changes.update.length > 0 ? ` (corrected ${plan.changes.update.map((u) => `${u.from.type} ${u.from.name}`).join(", ")})` : "";
      d.events.record(obj, "Normal", "DNSUpdated", `published ${desired.map((r) => `${r.type} ${r.name}`).join(", ")}${where}${corrected}`);
    }
    published = desired.map((r) => `${r.type} ${r.name}`);
  }
  return { type: "DNSReady", status: "True", reason: "Published", message: published.join(", ") };
}

async function ensureRoute(d: ReconcilerDeps, obj: ZlhResource, at: Placement): Promise<ConditionInput> {
  const routing = d.providers.routing;
  const desired = desiredRoute(obj, at, d.settings);
  const name = routeName(obj);
  const mark = ownerMark(ownerOf(obj));
  const found = await routing.observe([name, legacyRouteName(obj)]);
  const observed = found.find((r) => r.name === name);
  const legacy = found.find((r) => r.name !== name && r.ownerMark === mark);
  if (!desired) {
    if (observed?.ownerMark === mark) await routing.delete(name);
    if (legacy) await routing.delete(legacy.name);
    return { type: "RouteReady", status: "True", reason: "NothingToRoute", message: "no port is published through the edge" };
  }
  if (observed && observed.ownerMark !== desired.ownerMark) {
    throw Object.assign(new Error(`Traefik route ${name} exists and is owned by ${observed.ownerMark ?? "someone else (no owner mark)"}`), { reason: "Conflict" });
  }
  if (!observed || !isDeepStrictEqual(observed.config, desired.config)) {
    await routing.apply(desired);
    d.events.record(obj, "Normal", "RouteWritten", observed ? `rewrote Traefik route ${name}: its content had changed` : `wrote Traefik route ${name}`);
  }
  // The old, ambiguous name goes once the new file is in place (and only if it is ours).
  if (legacy) {
    await routing.delete(legacy.name);
    d.events.record(obj, "Normal", "RouteRenamed", `removed Traefik route ${legacy.name}, now ${name}`);
  }
  return { type: "RouteReady", status: "True", reason: "Written", message: `Traefik route ${name}` };
}

/** Names whose records we may hold: the desired ones plus those published before a rename. */
export function dnsNames(obj: ZlhResource, desired: string[]): string[] {
  const names = new Set(desired);
  for (const e of obj.status?.endpoints ?? []) {
    names.add(e.host);
    if (obj.kind === "GameServer") names.add(minecraftSrvName(e.host));
  }
  return [...names];
}

/** `status` with `inputs` set, Ready summarising them, and the phase derived from both. */
export function withConditions(d: ReconcilerDeps, obj: ZlhResource, status: ResourceStatus, inputs: ConditionInput[], agentState: AgentState | undefined): ResourceStatus {
  const now = new Date(d.clock.now()).toISOString();
  const generation = obj.metadata.generation ?? 0;
  let conditions = status.conditions ?? [];
  for (const c of inputs) conditions = setCondition(conditions, c, now, generation);
  if (inputs.length > 0) conditions = setCondition(conditions, readyCondition(conditions, agentState, status.provisioningError ?? status.agent?.message), now, generation);
  const deleting = obj.metadata.deletionTimestamp !== undefined;
  return { ...status, conditions, observedGeneration: generation, phase: derivePhase(conditions, agentState, deleting) };
}
