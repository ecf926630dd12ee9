import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { MemoryDnsProvider } from "../../src/providers/dns/memory.js";
import { providerKind, withCallCounts, withLatency } from "../../src/providers/instrumented.js";
import { MemoryRouteProvider } from "../../src/providers/routing/memory.js";
import { MemoryWorkloadProvider } from "../../src/providers/workload/memory.js";
import { httpRoute } from "./route-contract.js";
import { desired, mc1 } from "./workload-contract.js";

const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const record = { name: "mc1.zlh.localhost", type: "A" as const, ttl: 60, value: "127.77.0.100", ownerMark: MARK };

describe("withCallCounts", () => {
  it("counts reads and writes per method, including calls that fail", async () => {
    const inner = new MemoryDnsProvider();
    const p = withCallCounts(inner);
    await p.apply({ create: [record], update: [], delete: [] });
    await p.apply({ create: [record], update: [], delete: [] });
    await p.observe(["mc1.zlh.localhost"]);
    await p.listOwned();
    inner.failNext(1, "down");
    await expect(p.observe([])).rejects.toThrow("down");
    expect(p.counts()).toEqual({ reads: 3, writes: 2, errors: 1, byMethod: { apply: 2, observe: 2, listOwned: 1 } });
    p.resetCounts();
    expect(p.counts()).toEqual({ reads: 0, writes: 0, errors: 0, byMethod: {} });
  });

  it("feeds zlh_provider_requests_total by provider, method and result, sharing one counter per registry", async () => {
    const registry = new Registry();
    const routes = new MemoryRouteProvider();
    const r = withCallCounts(routes, { registry });
    const w = withCallCounts(new MemoryWorkloadProvider(), { registry });
    await r.apply(httpRoute("zlh-a"));
    await w.create(desired(mc1, 100));
    routes.setFailing("down");
    await expect(r.list()).rejects.toThrow("down");

    const metric = await registry.getSingleMetric("zlh_provider_requests_total")!.get();
    const value = (labels: Record<string, string>) =>
      metric.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    expect(value({ provider: "routing/memory", method: "apply", result: "success" })).toBe(1);
    expect(value({ provider: "routing/memory", method: "list", result: "error" })).toBe(1);
    expect(value({ provider: "workload/memory", method: "create", result: "success" })).toBe(1);
  });

  it("passes everything else through to the provider", async () => {
    const inner = new MemoryRouteProvider();
    const p = withCallCounts(inner);
    expect(p.name).toBe("memory");
    p.failNext(1, "injected through the wrapper");
    await expect(p.observe(["zlh-a"])).rejects.toThrow("injected through the wrapper");
  });

  it("tells the provider kinds apart", () => {
    expect([new MemoryDnsProvider(), new MemoryRouteProvider(), new MemoryWorkloadProvider()].map(providerKind)).toEqual(["dns", "routing", "workload"]);
  });
});

describe("withLatency", () => {
  it("answers each call only after the latency has passed on the clock", async () => {
    const clock = new FakeClock();
    const p = withLatency(new MemoryDnsProvider(), 25, clock);
    let done = false;
    const call = p.apply({ create: [record], update: [], delete: [] }).then(() => {
      done = true;
    });
    await clock.advanceAsync(24);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await call;
    expect(done).toBe(true);
    const observed = p.observe(["mc1.zlh.localhost"]);
    await clock.advanceAsync(25);
    expect(await observed).toEqual([record]);
  });
});

describe("failure injection in the memory twins", () => {
  it("fails exactly the next n calls, then works again", async () => {
    const p = new MemoryWorkloadProvider();
    p.failNext(2, "proxmox 500");
    await expect(p.list()).rejects.toMatchObject({ reason: "Unavailable", message: "proxmox 500" });
    await expect(p.create(desired(mc1, 100))).rejects.toThrow("proxmox 500");
    expect(await p.create(desired(mc1, 100))).toMatchObject({ running: true });
  });

  it("can aim at chosen methods and a chosen reason", async () => {
    const p = new MemoryDnsProvider();
    p.failNext(1, "rate limited", { methods: ["apply"], reason: "Conflict" });
    expect(await p.listOwned()).toEqual([]);
    await expect(p.apply({ create: [record], update: [], delete: [] })).rejects.toMatchObject({ reason: "Conflict" });
    await p.apply({ create: [record], update: [], delete: [] });
    expect(p.records()).toEqual([record]);
  });

  it("keeps failing every call until the failure is cleared", async () => {
    const p = new MemoryRouteProvider();
    p.setFailing("traefik host unreachable");
    await expect(p.list()).rejects.toThrow("traefik host unreachable");
    await expect(p.apply(httpRoute("zlh-a"))).rejects.toThrow("traefik host unreachable");
    p.setFailing(undefined);
    await p.apply(httpRoute("zlh-a"));
    expect(p.routes().map((r) => r.name)).toEqual(["zlh-a"]);
  });
});
