import { describe, expect, it } from "vitest";
import { gameServer, harness } from "./harness.js";

describe("publishing to several DNS providers", () => {
  it("gives the edge provider the edge's address and public port, the internal one the workload's own", async () => {
    const h = harness({ edgeAddress: "203.0.113.10", internalDns: true });
    const key = h.create(gameServer());
    await h.converge(key);
    const show = (rs: { type: string; name: string; value: string }[]) => rs.map((r) => `${r.type} ${r.name} ${r.value}`).sort();
    expect(show(h.dns.records())).toEqual([
      "A mc1.zlh.localhost 203.0.113.10",
      "SRV _minecraft._tcp.mc1.zlh.localhost 0 5 30000 mc1.zlh.localhost",
    ]);
    expect(show(h.internal.records())).toEqual([
      "A mc1.zlh.localhost 127.77.0.100",
      "SRV _minecraft._tcp.mc1.zlh.localhost 0 5 25565 mc1.zlh.localhost",
    ]);
    expect(h.objects.get(key)!.status!.conditions?.find((c) => c.type === "DNSReady")?.status).toBe("True");
  });

  it("removes the records from every provider on delete", async () => {
    const h = harness({ edgeAddress: "203.0.113.10", internalDns: true });
    const key = h.create(gameServer());
    await h.converge(key);
    h.markDeleted(key);
    await h.converge(key);
    expect(h.objects.has(key)).toBe(false);
    expect(h.dns.records()).toEqual([]);
    expect(h.internal.records()).toEqual([]);
  });

  it("names the provider when a foreign record blocks one of several", async () => {
    const h = harness({ internalDns: true });
    await h.internal.apply({ create: [{ name: "mc1.zlh.localhost", type: "A", ttl: 60, value: "10.0.0.9", ownerMark: "GameServer/other/mc1/u-x" }], update: [], delete: [] });
    const key = h.create(gameServer());
    await h.converge(key).catch(() => undefined);
    const dns = h.objects.get(key)!.status!.conditions?.find((c) => c.type === "DNSReady");
    expect(dns).toMatchObject({ status: "False", reason: "DNSConflict", message: expect.stringContaining("in memory") });
  });
});
