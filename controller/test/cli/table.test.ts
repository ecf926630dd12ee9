import { describe, expect, it } from "vitest";
import type { ResourceObject } from "../../src/cli/resource-rows.js";
import { resourceRow, rowHeaders } from "../../src/cli/resource-rows.js";
import { StreamingTable, formatTable } from "../../src/cli/table.js";

const now = Date.parse("2026-01-10T12:00:00Z");

const running: ResourceObject = {
  kind: "GameServer",
  metadata: { name: "mc1", namespace: "team-a", creationTimestamp: "2026-01-10T11:57:00Z" },
  status: {
    phase: "Running",
    vmid: 5001,
    workload: { ip: "10.0.0.5" },
    endpoints: [
      { name: "game", host: "mc1.zlh.localhost", port: 25565, protocol: "tcp", url: "tcp://mc1.zlh.localhost:25565" },
      { name: "rcon", host: "mc1.zlh.localhost", port: 25575, protocol: "tcp", url: "tcp://mc1.zlh.localhost:25575" },
    ],
    agent: { restarts: 2 },
    conditions: [
      { type: "WorkloadReady", status: "True", reason: "Running", message: "", lastTransitionTime: "2026-01-10T11:58:00Z" },
      { type: "DNSReady", status: "False", reason: "ZoneUnreachable", message: "timeout", lastTransitionTime: "2026-01-10T11:58:00Z" },
      { type: "Ready", status: "False", reason: "DNSNotReady", message: "", lastTransitionTime: "2026-01-10T11:58:00Z" },
    ],
  },
};

describe("formatTable", () => {
  it("aligns columns three spaces apart with no trailing spaces", () => {
    expect(formatTable(["NAME", "PHASE"], [["a-long-name", "Running"], ["b", ""]])).toEqual([
      "NAME          PHASE",
      "a-long-name   Running",
      "b",
    ]);
  });

  it("prints only the header for no rows", () => {
    expect(formatTable(["NAME", "AGE"], [])).toEqual(["NAME   AGE"]);
  });
});

describe("StreamingTable", () => {
  it("keeps the first table's widths and widens for a longer value", () => {
    const t = new StreamingTable(["NAME", "PHASE"], [["mc1", "Running"]]);
    expect(t.header()).toBe("NAME   PHASE");
    expect(t.row(["mc2", "Pending"])).toBe("mc2    Pending");
    expect(t.row(["much-longer", "Error"])).toBe("much-longer   Error");
    expect(t.row(["x", "Running"])).toBe("x             Running");
  });
});

describe("resource rows", () => {
  it("shows name, phase, vmid, first endpoint host, Ready status and age", () => {
    expect(rowHeaders({})).toEqual(["NAME", "PHASE", "VMID", "HOST", "READY", "AGE"]);
    expect(resourceRow(running, { nowMs: now })).toEqual(["mc1", "Running", "5001", "mc1.zlh.localhost", "False", "3m"]);
  });

  it("adds namespace and kind columns when asked", () => {
    expect(rowHeaders({ showNamespace: true, showKind: true }).slice(0, 3)).toEqual(["NAMESPACE", "NAME", "KIND"]);
    expect(resourceRow(running, { nowMs: now, showNamespace: true, showKind: true }).slice(0, 3)).toEqual(["team-a", "mc1", "GameServer"]);
  });

  it("wide output adds IP, every endpoint URL, restarts and the reason of the first False condition", () => {
    expect(rowHeaders({ wide: true }).slice(6)).toEqual(["IP", "ENDPOINTS", "RESTARTS", "MESSAGE"]);
    expect(resourceRow(running, { nowMs: now, wide: true }).slice(6)).toEqual([
      "10.0.0.5",
      "tcp://mc1.zlh.localhost:25565,tcp://mc1.zlh.localhost:25575",
      "2",
      "ZoneUnreachable",
    ]);
  });

  it("fills placeholders for an object the controller has not seen yet", () => {
    const fresh: ResourceObject = { kind: "GameServer", metadata: { name: "new", creationTimestamp: "2026-01-10T11:59:59Z" } };
    expect(resourceRow(fresh, { nowMs: now, wide: true })).toEqual(["new", "Pending", "<none>", "<none>", "Unknown", "1s", "<none>", "<none>", "0", ""]);
  });

  it("shows Terminating for an object being deleted, whatever its last phase", () => {
    const deleting = { ...running, metadata: { ...running.metadata, deletionTimestamp: "2026-01-10T11:59:00Z" } };
    expect(resourceRow(deleting, { nowMs: now })[1]).toBe("Terminating");
  });
});
