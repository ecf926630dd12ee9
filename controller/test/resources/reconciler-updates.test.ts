import { describe, expect, it } from "vitest";
import { gameServer, harness, running } from "./harness.js";

const owner = { kind: "GameServer" as const, namespace: "default", name: "mc1", uid: "uid-mc1" };

describe("an existing workload is brought in line with update()", () => {
  it("re-delivers the controller URL after the controller moved to another port", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    const id = h.workload.workloads()[0]!.id;
    // The same store and twin, a restarted controller on another port.
    const moved = harness({ agentUrl: "http://127.0.0.1:2" });
    for (const [k, v] of h.objects) moved.objects.set(k, v);
    await moved.workload.create({ owner, vmid: 100, hostname: "mc1", resources: { cpu: 1, memoryMiB: 1024, diskGiB: 8 }, agent: { controllerUrl: "http://127.0.0.1:1", token: "zlha.token-for-mc1" } });
    await moved.converge(key);
    expect(moved.calls).toContain("workload.update");
    expect(moved.calls).not.toContain("workload.create");
    expect(moved.workload.workloads()[0]).toMatchObject({ id, controllerUrl: "http://127.0.0.1:2", token: "zlha.token-for-mc1" });
    expect(moved.events.events).toContainEqual(expect.objectContaining({ reason: "WorkloadUpdated", message: `updated workload ${id}: controller URL is now http://127.0.0.1:2` }));
    // Once delivered, a converged resync changes nothing.
    const before = moved.writes();
    await moved.reconcile(key);
    expect(moved.writes()).toBe(before);
  });

  it("resizes the workload when spec.resources change, without re-creating it", async () => {
    const h = harness();
    const key = h.create(gameServer());
    await h.converge(key);
    const o = h.objects.get(key)!;
    h.objects.set(key, { ...o, metadata: { ...o.metadata, generation: 2 }, spec: { ...o.spec, resources: { cpu: 4, memoryMiB: 4096 } } } as typeof o);
    await h.converge(key);
    expect(h.calls.filter((c) => c === "workload.create")).toHaveLength(1);
    expect(h.workload.workloads()[0]!.resources).toEqual({ cpu: 4, memoryMiB: 4096, diskGiB: 8 });
    expect(h.events.events.find((e) => e.reason === "WorkloadUpdated")?.message).toMatch(/resources cpu 1→4 memoryMiB 1024→4096$/);
  });

  it("updates before it starts, so a restarted agent already has the new URL", async () => {
    const h = harness({ agentUrl: "http://127.0.0.1:3" });
    const key = h.create(gameServer());
    const w = await h.workload.create({ owner, vmid: 100, hostname: "mc1", resources: { cpu: 1, memoryMiB: 1024, diskGiB: 8 }, agent: { controllerUrl: "http://127.0.0.1:1", token: "zlha.token-for-mc1" } });
    h.workload.crash(w.id);
    await h.converge(key);
    const order = h.calls.filter((c) => c === "workload.update" || c === "workload.start");
    expect(order).toEqual(["workload.update", "workload.start"]);
  });
});

describe("status and events show what the agent says, safely", () => {
  it("shows the agent as unknown, without a server pid, while its heartbeats are missed", async () => {
    const h = harness();
    const key = h.create(gameServer());
    h.reports.record(key, running(new Date(h.clock.now()).toISOString()));
    await h.converge(key);
    expect(h.objects.get(key)!.status!.agent).toMatchObject({ state: "running", serverPid: 42 });
    h.clock.advance(16_000);
    await h.converge(key);
    const agent = h.objects.get(key)!.status!.agent!;
    expect(agent.state).toBe("unknown");
    expect(agent).not.toHaveProperty("serverPid");
    expect(h.events.events).toContainEqual(expect.objectContaining({ type: "Warning", reason: "AgentLost" }));
  });

  it("says why the server failed in Ready instead of 'the server is error'", async () => {
    const h = harness();
    const key = h.create(gameServer());
    h.reports.record(key, { ...running(new Date(h.clock.now()).toISOString()), state: "error", provisioningError: "java: not found" });
    await h.converge(key);
    const ready = h.objects.get(key)!.status!.conditions!.find((c) => c.type === "Ready")!;
    expect(ready).toMatchObject({ status: "False", message: "the server failed: java: not found" });
  });

  it("escapes terminal control characters from agent reports in status and events", async () => {
    const h = harness();
    const key = h.create(gameServer());
    const evil = "crashed\u001b]0;owned\u0007\u001b[2J\nReady: True\u202e";
    h.reports.record(key, { ...running(new Date(h.clock.now()).toISOString()), state: "error", restarts: 1, message: evil, provisioningError: evil });
    await h.converge(key);
    const status = h.objects.get(key)!.status!;
    const texts = [status.agent!.message!, status.provisioningError!, ...status.conditions!.map((c) => c.message), ...h.events.events.map((e) => e.message)];
    for (const t of texts) expect(t).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(status.agent!.message).toBe("crashed\\x1b]0;owned\\x07\\x1b[2J\\x0aReady: True\\u202e");
    expect(h.events.events.find((e) => e.reason === "ServerFailed")!.message).toContain("crashed\\x1b]0;owned");
  });
});

describe("route files named before 0.2", () => {
  const legacy = "zlh-gameserver-default-mc1";
  const config = { tcp: { routers: {}, services: {} } };

  it("are replaced: the new file is written first, then the old one removed", async () => {
    const h = harness();
    const key = h.create(gameServer());
    h.routing.seed({ name: legacy, ownerMark: "GameServer/default/mc1/uid-mc1", config });
    await h.converge(key);
    expect(h.routing.routes().map((r) => r.name)).toEqual(["zlh-gameserver_default_mc1"]);
    const order = h.calls.filter((c) => c.startsWith("routing.") && c !== "routing.observe");
    expect(order).toEqual(["routing.apply", "routing.delete"]);
    expect(h.events.events).toContainEqual(expect.objectContaining({ reason: "RouteRenamed" }));
  });

  it("are left alone when another resource's mark is on them", async () => {
    const h = harness();
    // GameServer mc1 in namespace "default" and one of that old name from elsewhere.
    const foreign = { name: legacy, ownerMark: "GameServer/default-mc1/x/uid-x", config };
    h.routing.seed(foreign);
    const key = h.create(gameServer());
    await h.converge(key);
    h.markDeleted(key);
    await h.converge(key);
    expect(h.routing.routes()).toEqual([foreign]);
  });
});

describe("with the observed-state cache", () => {
  it("creates a new resource after a refresh with no provider reads, only the three writes", async () => {
    const h = harness({ cached: true });
    await h.cache!.refresh();
    const listed = h.reads();
    const key = h.create(gameServer());
    await h.converge(key);
    expect(h.reads()).toBe(listed);
    expect(h.writes()).toBe(3);
    h.reports.record(key, running(new Date(h.clock.now()).toISOString()));
    await h.converge(key);
    expect(h.objects.get(key)!.status!.phase).toBe("Running");
    expect(h.reads()).toBe(listed);
  });

  it("still refuses a foreign DNS record it did not list (the provider's own check), and shows it", async () => {
    const h = harness({ cached: true });
    await h.cache!.refresh();
    h.dns.seed([{ name: "mc1.zlh.localhost", type: "A", ttl: 300, value: "198.51.100.7" }]);
    const key = h.create(gameServer());
    // The listing did not show it; the provider's apply refuses to join its RRset.
    await expect(h.reconcile(key)).rejects.toThrow(/mc1\.zlh\.localhost already has a A record 198\.51\.100\.7 \(not owned by zlh\)/);
    // The failure made the cache forget the name: the next pass observes and plans a conflict.
    await expect(h.reconcile(key)).rejects.toThrow(/exists and is not owned/);
    expect(h.objects.get(key)!.status!.conditions?.find((c) => c.type === "DNSReady")).toMatchObject({ status: "False", reason: "DNSConflict" });
    expect(h.dns.records()).toEqual([{ name: "mc1.zlh.localhost", type: "A", ttl: 300, value: "198.51.100.7" }]);
  });
});

describe.each([{ cached: false }, { cached: true }])("drift is put back on the next resync, with an event (%o)", (mode) => {
  async function converged() {
    const h = harness(mode);
    await h.cache?.refresh();
    const key = h.create(gameServer());
    await h.converge(key);
    h.events.events.length = 0;
    return { h, key };
  }
  const resync = async (h: ReturnType<typeof harness>, key: string) => {
    await h.cache?.refresh();
    await h.converge(key);
  };

  it("a Traefik route edited by hand", async () => {
    const { h, key } = await converged();
    const r = h.routing.routes()[0]!;
    h.routing.seed({ ...r, config: { tcp: { routers: {}, services: {} } } });
    await resync(h, key);
    expect(h.routing.routes()[0]!.config).toEqual(r.config);
    expect(h.events.events).toContainEqual(expect.objectContaining({ reason: "RouteWritten", message: expect.stringMatching(/its content had changed/) }));
  });

  it("a Traefik route removed by hand", async () => {
    const { h, key } = await converged();
    const r = h.routing.routes()[0]!;
    await h.routing.delete(r.name);
    await resync(h, key);
    expect(h.routing.routes()).toEqual([r]);
    expect(h.events.events.map((e) => e.reason)).toContain("RouteWritten");
  });

  it("a DNS record changed by hand", async () => {
    const { h, key } = await converged();
    const a = h.dns.records().find((r) => r.type === "A")!;
    await h.dns.apply({ create: [], update: [{ from: a, to: { ...a, value: "192.0.2.66", ownerMark: a.ownerMark! } }], delete: [] });
    await resync(h, key);
    expect(h.dns.records().find((r) => r.type === "A")!.value).toBe(a.value);
    expect(h.events.events).toContainEqual(expect.objectContaining({ reason: "DNSUpdated", message: expect.stringMatching(/corrected A mc1\.zlh\.localhost/) }));
  });

  it("a container stopped by hand", async () => {
    const { h, key } = await converged();
    h.workload.crash(h.workload.workloads()[0]!.id);
    await resync(h, key);
    expect(h.workload.workloads()[0]!.running).toBe(true);
    expect(h.events.events.map((e) => e.reason)).toContain("WorkloadStarted");
  });
});
