import { describe, it, expect } from "vitest";
import { FINALIZER } from "../../src/plan/resource.js";
import { gameServer, harness as makeHarness, running, type HarnessOptions } from "./harness.js";

// Every behaviour holds with and without the observed-state cache the manager puts in front
// of the providers.
describe.each([{ cached: false }, { cached: true }])("reconciling a GameServer (%o)", (mode) => {
  const harness = (o: HarnessOptions = {}) => makeHarness({ ...o, ...mode });

  it("adds the finalizer and persists vmid and public port before creating anything", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.reconcile(key);
    expect(h.objects.get(key)!.metadata.finalizers).toEqual([FINALIZER]);
    expect(h.objects.get(key)!.status).toMatchObject({ vmid: 100, ports: [{ name: "game", port: 25565, protocol: "tcp", publicPort: 30000 }] });
    const order = h.calls.filter((c) => c.startsWith("api.") || c === "workload.create");
    expect(order.slice(0, 3)).toEqual(["api.replace", "api.replaceStatus", "workload.create"]);
    expect(h.workload.workloads()[0]!.vmid).toBe(100);
  });

  it("creates workload, DNS records and route, then reaches Running once the agent reports", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    const s = h.objects.get(key)!.status!;
    expect(s.phase).toBe("Provisioning");
    expect(s.conditions?.map((c) => [c.type, c.status])).toEqual([
      ["WorkloadReady", "True"], ["DNSReady", "True"], ["RouteReady", "True"], ["AgentReady", "Unknown"], ["Ready", "Unknown"],
    ]);
    expect(h.workload.workloads()).toHaveLength(1);
    expect(h.dns.records().map((r) => `${r.type} ${r.name}`)).toEqual(["A mc1.zlh.localhost", "SRV _minecraft._tcp.mc1.zlh.localhost"]);
    expect(h.routing.routes().map((r) => r.name)).toEqual(["zlh-gameserver_default_mc1"]);

    h.reports.record(key, running(new Date(h.clock.now()).toISOString()));
    await h.converge(key);
    const after = h.objects.get(key)!.status!;
    expect(after.phase).toBe("Running");
    expect(after.agent).toMatchObject({ state: "running", serverPid: 42, restarts: 0 });
    expect(after.agent).not.toHaveProperty("pid");
    expect(after.provisioningComplete).toBe(true);
    expect(after.endpoints?.[0]).toMatchObject({ host: "mc1.zlh.localhost", url: expect.stringMatching(/^tcp:\/\/127\.77\.0\.100:25565$/) });
  });

  it("makes zero provider writes and no status write when a converged object is reconciled again", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    const rv = h.objects.get(key)!.metadata.resourceVersion;
    const before = h.writes();
    for (let i = 0; i < 3; i++) await h.reconcile(key);
    expect(h.writes()).toBe(before);
    expect(h.objects.get(key)!.metadata.resourceVersion).toBe(rv);
  });

  it("shows a failing provider as a condition with its message and a Warning event, retries, and converges once it recovers", async () => {
    const h = harness();
    const key = h.create(gameServer());
    h.dns.setFailing("dns backend unreachable");
    await expect(h.reconcile(key)).rejects.toThrow("dns backend unreachable");
    const s = h.objects.get(key)!.status!;
    expect(s.phase).toBe("Error");
    expect(s.conditions?.find((c) => c.type === "DNSReady")).toMatchObject({ status: "False", reason: "DNSFailed", message: "dns backend unreachable" });
    expect(s.conditions?.find((c) => c.type === "RouteReady")).toMatchObject({ status: "Unknown", reason: "Waiting" });
    expect(h.routing.routes()).toHaveLength(0);
    expect(h.events.events).toContainEqual({ name: "mc1", type: "Warning", reason: "DNSFailed", message: "dns backend unreachable" });
    h.dns.setFailing(undefined);
    await h.converge(key);
    expect(h.objects.get(key)!.status!.conditions?.find((c) => c.type === "DNSReady")?.status).toBe("True");
    expect(h.routing.routes()).toHaveLength(1);
  });

  it("adopts a workload created before a crash instead of creating a second one", async () => {
    const h = harness();
    const key = h.create(gameServer());
    const o = h.objects.get(key)!;
    // The previous controller created the workload, then died before recording anything else.
    await h.workload.create({ owner: { kind: "GameServer", namespace: "default", name: "mc1", uid: o.metadata.uid! }, vmid: 100, hostname: "mc1", resources: { cpu: 1, memoryMiB: 1024, diskGiB: 8 }, agent: { controllerUrl: "http://127.0.0.1:1", token: "zlha.t" } });
    await h.converge(key);
    expect(h.workload.workloads()).toHaveLength(1);
    expect(h.calls.filter((c) => c === "workload.create")).toHaveLength(0);
  });

  it("never overwrites a DNS record it does not own", async () => {
    const h = harness();
    h.dns.seed([{ name: "mc1.zlh.localhost", type: "A", ttl: 300, value: "198.51.100.7" }]);
    const key = h.create(gameServer());
    await expect(h.reconcile(key)).rejects.toThrow(/not owned/);
    expect(h.objects.get(key)!.status!.conditions?.find((c) => c.type === "DNSReady")).toMatchObject({ status: "False", reason: "DNSConflict" });
    expect(h.events.events.filter((e) => e.type === "Warning").map((e) => e.reason)).toEqual(["DNSConflict"]);
    expect(h.dns.records()).toEqual([{ name: "mc1.zlh.localhost", type: "A", ttl: 300, value: "198.51.100.7" }]);
  });

  it("never overwrites or deletes a Traefik route someone else owns", async () => {
    const h = harness();
    const foreign = { name: "zlh-gameserver_default_mc1", ownerMark: "GameServer/default/mc1/another-uid", config: { tcp: {} } };
    h.routing.seed(foreign);
    const key = h.create(gameServer());
    await expect(h.reconcile(key)).rejects.toThrow(/owned by GameServer\/default\/mc1\/another-uid/);
    expect(h.objects.get(key)!.status!.conditions?.find((c) => c.type === "RouteReady")).toMatchObject({ status: "False", reason: "RouteConflict" });
    h.markDeleted(key);
    await h.converge(key);
    expect(h.objects.has(key)).toBe(false);
    expect(h.routing.routes()).toEqual([foreign]);
  });

  it("gives two resources different vmids and public ports", async () => {
    const h = harness();
    const a = h.create(gameServer("a"));
    const b = h.create(gameServer("b"));
    await Promise.all([h.converge(a), h.converge(b)]);
    const [sa, sb] = [h.objects.get(a)!.status!, h.objects.get(b)!.status!];
    expect(sa.vmid).not.toBe(sb.vmid);
    expect(sa.ports![0]!.publicPort).not.toBe(sb.ports![0]!.publicPort);
  });

  it("marks AgentReady False after three missed heartbeats and Running again when they resume", async () => {
    const h = harness();
    const key = h.create(gameServer());
    h.reports.record(key, running(new Date(h.clock.now()).toISOString()));
    await h.converge(key);
    expect(h.objects.get(key)!.status!.phase).toBe("Running");
    h.clock.advance(16_000);
    await h.converge(key);
    const s = h.objects.get(key)!.status!;
    expect(s.conditions?.find((c) => c.type === "AgentReady")).toMatchObject({ status: "False", reason: "HeartbeatMissed" });
    expect(s.phase).toBe("Starting");
    h.reports.record(key, running(new Date(h.clock.now()).toISOString()));
    await h.converge(key);
    expect(h.objects.get(key)!.status!.phase).toBe("Running");
  });

  it("is not Running after a spec change until the agent runs the new generation", async () => {
    const h = harness();
    const key = h.create(gameServer());
    h.reports.record(key, { ...running(new Date(h.clock.now()).toISOString()), generation: 1 });
    await h.converge(key);
    expect(h.objects.get(key)!.status!.phase).toBe("Running");
    const o = h.objects.get(key)!;
    h.objects.set(key, { ...o, metadata: { ...o.metadata, generation: 2 }, spec: { ...o.spec, command: ["srv", "--new"] } } as typeof o);
    await h.converge(key);
    expect(h.objects.get(key)!.status).toMatchObject({ phase: "Starting", observedGeneration: 2 });
    h.reports.record(key, { ...running(new Date(h.clock.now()).toISOString()), generation: 2 });
    await h.converge(key);
    expect(h.objects.get(key)!.status!.phase).toBe("Running");
  });

  it("restarts a workload whose agent died", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    h.workload.crash(h.workload.workloads()[0]!.id);
    // With the cache, what notices is the heartbeat sweep: it invalidates a silent agent's workload.
    h.cache?.invalidateWorkload({ kind: "GameServer", namespace: "default", name: "mc1", uid: "uid-mc1" });
    await h.converge(key);
    expect(h.calls).toContain("workload.start");
    expect(h.events.events.map((e) => e.reason)).toContain("WorkloadStarted");
    expect(h.workload.workloads()[0]!.running).toBe(true);
  });
});

describe.each([{ cached: false }, { cached: true }])("deleting a GameServer (%o)", (mode) => {
  const harness = (o: HarnessOptions = {}) => makeHarness({ ...o, ...mode });

  it("removes route, then DNS records, then workload, then the finalizer", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    h.calls.length = 0;
    h.markDeleted(key);
    await h.converge(key);
    expect(h.objects.has(key)).toBe(false);
    const writes = h.calls.filter((c) => /\.(delete|apply)$/.test(c));
    expect(writes).toEqual(["routing.delete", "dns.apply", "workload.delete"]);
    expect(h.workload.workloads()).toHaveLength(0);
    expect(h.dns.records()).toHaveLength(0);
    expect(h.routing.routes()).toHaveLength(0);
  });

  it("shows Terminating while cleaning up", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    h.workload.setFailing("hypervisor down");
    h.markDeleted(key);
    await expect(h.reconcile(key)).rejects.toThrow("hypervisor down");
    expect(h.objects.get(key)!.status!.phase).toBe("Terminating");
  });

  it("completes when the workload is already gone", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    await h.workload.delete(h.workload.workloads()[0]!.id);
    h.markDeleted(key);
    await h.converge(key);
    expect(h.objects.has(key)).toBe(false);
    expect(h.dns.records()).toHaveLength(0);
  });

  it("keeps the finalizer while a provider fails, so nothing is orphaned", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    h.markDeleted(key);
    h.workload.setFailing("hypervisor down");
    await expect(h.reconcile(key)).rejects.toThrow("hypervisor down");
    expect(h.objects.get(key)!.metadata.finalizers).toEqual([FINALIZER]);
    expect(h.events.events.filter((e) => e.type === "Warning")).toEqual([{ name: "mc1", type: "Warning", reason: "CleanupFailed", message: "cleanup failed, will retry: hypervisor down" }]);
    await expect(h.reconcile(key)).rejects.toThrow("hypervisor down");
    h.workload.setFailing(undefined);
    await h.converge(key);
    expect(h.objects.has(key)).toBe(false);
    expect(h.workload.workloads()).toHaveLength(0);
    expect(h.events.events.filter((e) => e.reason === "CleanedUp")).toHaveLength(1);
  });
});
