import { describe, it, expect } from "vitest";
import { desiredRecords, planDns } from "../../src/plan/dns.js";
import type { ObservedRecord } from "../../src/providers/dns/types.js";
import { devEnv, edge, gameServer, settings } from "./fixtures.js";

const mark = "GameServer/default/mc1/uid-1";
const at = { vmid: 100, ip: "127.77.0.100", ports: [{ name: "game", port: 25565, protocol: "tcp" as const, publicPort: 30001 }] };

describe("desiredRecords", () => {
  it("gives a Minecraft server an A record at its workload and an SRV record for its port (local mode)", () => {
    expect(desiredRecords(gameServer(), at, settings)).toEqual([
      { name: "mc1.zlh.localhost", type: "A", ttl: 60, value: "127.77.0.100", ownerMark: mark },
      { name: "_minecraft._tcp.mc1.zlh.localhost", type: "SRV", ttl: 60, value: "0 5 25565 mc1.zlh.localhost", ownerMark: mark },
    ]);
  });

  it("points names at the edge and the SRV record at the public port when an edge is configured", () => {
    const recs = desiredRecords(gameServer({ hostname: "survival" }), at, edge);
    expect(recs.map((r) => [r.name, r.value])).toEqual([
      ["survival.games.example.com", "203.0.113.10"],
      ["_minecraft._tcp.survival.games.example.com", "0 5 30001 survival.games.example.com"],
    ]);
  });

  it("gives generic game servers no SRV record", () => {
    expect(desiredRecords(gameServer({ game: "generic" }), at, settings).map((r) => r.type)).toEqual(["A"]);
  });

  it("gives a dev environment dev-<vmid> plus one name per exposed port", () => {
    const ports = [{ name: "code-server", port: 6000, protocol: "http" as const }, { name: "port-8080", port: 8080, protocol: "http" as const }];
    expect(desiredRecords(devEnv(), { vmid: 104, ip: "127.77.0.104", ports }, settings).map((r) => r.name)).toEqual(["dev-104.zlh.localhost", "dev-104-8080.zlh.localhost"]);
  });
});

describe("planDns", () => {
  const desired = desiredRecords(gameServer(), at, settings);
  it("creates what is missing and nothing else", () => {
    const { changes, conflicts } = planDns(desired, [], mark);
    expect(conflicts).toEqual([]);
    expect(changes.create).toHaveLength(2);
    expect(changes.update).toHaveLength(0);
    expect(changes.delete).toHaveLength(0);
  });

  it("plans no change when observed equals desired (a converged resync writes nothing)", () => {
    const { changes } = planDns(desired, desired, mark);
    expect(changes).toEqual({ create: [], update: [], delete: [] });
  });

  it("updates our record whose value changed and deletes our records no longer wanted", () => {
    const observed: ObservedRecord[] = [
      { ...desired[0]!, value: "127.77.0.99" },
      { name: "old.zlh.localhost", type: "A", ttl: 60, value: "127.77.0.100", ownerMark: mark },
      desired[1]!,
    ];
    const { changes } = planDns(desired, observed, mark);
    expect(changes.update).toEqual([{ from: observed[0], to: desired[0] }]);
    expect(changes.delete.map((r) => r.name)).toEqual(["old.zlh.localhost"]);
  });

  it("never touches a record someone else owns: it reports a conflict instead", () => {
    const foreign: ObservedRecord = { name: "mc1.zlh.localhost", type: "A", ttl: 300, value: "198.51.100.7" };
    const { changes, conflicts } = planDns(desired, [foreign], mark);
    expect(conflicts[0]).toMatch(/A mc1.zlh.localhost exists and is not owned/);
    expect(changes.update).toHaveLength(0);
    expect(changes.delete).toHaveLength(0);
  });
});
