import { describe, it, expect } from "vitest";
import { pino } from "pino";
import { MemoryDnsProvider } from "../../src/providers/dns/memory.js";
import { MemoryRouteProvider } from "../../src/providers/routing/memory.js";
import { MemoryWorkloadProvider } from "../../src/providers/workload/memory.js";
import { ownerMark, type Owner } from "../../src/providers/owner.js";
import { Registry } from "prom-client";
import { memoryEventRecorder } from "../../src/resources/event-recorder.js";
import { collectGarbage, gcMetrics } from "../../src/resources/garbage-collector.js";

const live: Owner = { kind: "GameServer", namespace: "default", name: "live", uid: "u-live" };
const gone: Owner = { kind: "GameServer", namespace: "default", name: "gone", uid: "u-gone" };

async function world() {
  const providers = { workload: new MemoryWorkloadProvider(), dns: new MemoryDnsProvider(), routing: new MemoryRouteProvider() };
  for (const [o, vmid] of [[live, 100], [gone, 101]] as const) {
    await providers.workload.create({ owner: o, vmid, hostname: o.name, resources: { cpu: 1, memoryMiB: 512, diskGiB: 1 }, agent: { controllerUrl: "http://127.0.0.1:1", token: "zlha.t" } });
    await providers.dns.apply({ create: [{ name: `${o.name}.zlh.localhost`, type: "A", ttl: 60, value: "127.77.0.1", ownerMark: ownerMark(o) }], update: [], delete: [] });
    await providers.routing.apply({ name: `zlh-gameserver-default-${o.name}`, ownerMark: ownerMark(o), config: { tcp: { routers: {}, services: {} } } });
  }
  providers.dns.seed([{ name: "www.zlh.localhost", type: "A", ttl: 300, value: "198.51.100.1" }]);
  return providers;
}

describe("collectGarbage", () => {
  it("deletes the route, records and workload of an owner that no longer exists, and nothing else", async () => {
    const p = await world();
    const report = await collectGarbage({ ...p, dns: [{ provider: p.dns, target: "edge" }] }, (o) => o.uid === live.uid, pino({ level: "silent" }));
    expect(report).toEqual({ routes: ["zlh-gameserver-default-gone"], records: ["A gone.zlh.localhost"], workloads: [expect.stringContaining("gone")], deferred: 0 });
    expect(p.routing.routes().map((r) => r.name)).toEqual(["zlh-gameserver-default-live"]);
    expect(p.dns.records().map((r) => r.name).sort()).toEqual(["live.zlh.localhost", "www.zlh.localhost"]);
    expect(p.workload.workloads().map((w) => w.ownerMark)).toEqual([ownerMark(live)]);
  });

  it("treats an object re-created under the same name (new uid) as a different owner", async () => {
    const p = await world();
    // `live` was deleted and re-created: same name, new uid. Its old objects are orphans.
    const report = await collectGarbage({ ...p, dns: [{ provider: p.dns, target: "edge" }] }, (o) => o.name === "live" && o.uid === "u-live-2", pino({ level: "silent" }));
    expect(report.routes.sort()).toEqual(["zlh-gameserver-default-gone", "zlh-gameserver-default-live"]);
    expect(p.workload.workloads()).toEqual([]);
  });

  it("removes at most `limit` objects per sweep and leaves the rest for the next one", async () => {
    const p = await world();
    const dns = [{ provider: p.dns, target: "edge" as const }];
    const nobody = () => false;
    const first = await collectGarbage({ ...p, dns }, nobody, pino({ level: "silent" }), { limit: 4 });
    expect(first.routes.length + first.records.length + first.workloads.length).toBe(4);
    expect(first.deferred).toBe(2);
    const second = await collectGarbage({ ...p, dns }, nobody, pino({ level: "silent" }), { limit: 4 });
    expect(second.routes.length + second.records.length + second.workloads.length).toBe(2);
    expect(second.deferred).toBe(0);
    expect(p.workload.workloads()).toEqual([]);
    expect(p.routing.routes()).toEqual([]);
    expect(p.dns.records().map((r) => r.name)).toEqual(["www.zlh.localhost"]);
  });

  it("with dryRun lists what it would remove and changes nothing", async () => {
    const p = await world();
    const events = memoryEventRecorder();
    const before = { w: p.workload.writes, d: p.dns.writes, r: p.routing.writes };
    const report = await collectGarbage({ ...p, dns: [{ provider: p.dns, target: "edge" }] }, (o) => o.uid === live.uid, pino({ level: "silent" }), { dryRun: true, events });
    expect(report).toEqual({ routes: ["zlh-gameserver-default-gone"], records: ["A gone.zlh.localhost"], workloads: [expect.stringContaining("gone")], deferred: 0 });
    expect({ w: p.workload.writes, d: p.dns.writes, r: p.routing.writes }).toEqual(before);
    expect(events.events).toEqual([]);
  });

  it("records an event on the gone owner and counts what it removed", async () => {
    const p = await world();
    const events = memoryEventRecorder();
    const registry = new Registry();
    const metrics = gcMetrics(registry);
    await collectGarbage({ ...p, dns: [{ provider: p.dns, target: "edge" }] }, (o) => o.uid === live.uid, pino({ level: "silent" }), { events, metrics });
    expect(events.events.map((e) => [e.name, e.reason])).toEqual([["gone", "GarbageCollected"], ["gone", "GarbageCollected"], ["gone", "GarbageCollected"]]);
    expect(events.events[0]!.message).toBe("removed orphaned route zlh-gameserver-default-gone (its owner GameServer/default/gone/u-gone no longer exists)");
    const text = await registry.metrics();
    for (const object of ["route", "record", "workload"]) expect(text).toContain(`zlh_gc_removed_total{object="${object}"} 1`);
  });
});
