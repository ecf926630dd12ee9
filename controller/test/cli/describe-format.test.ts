import { describe, expect, it } from "vitest";
import type { CoreV1Event } from "@kubernetes/client-node";
import { describeConditions, describeEvents, describeMetadata, describeStatus } from "../../src/cli/describe.js";
import type { ResourceObject } from "../../src/cli/resource-rows.js";

const now = Date.parse("2026-01-10T12:00:00Z");

const obj: ResourceObject = {
  kind: "GameServer",
  metadata: {
    name: "mc1",
    namespace: "default",
    uid: "u-1",
    labels: { tier: "gold", app: "mc" },
    creationTimestamp: "2026-01-10T10:00:00Z",
    deletionTimestamp: "2026-01-10T11:59:00Z",
    finalizers: ["zerolaghub.dev/cleanup"],
    generation: 3,
  },
  status: {
    phase: "Error",
    vmid: 5001,
    workload: { id: "w-5001", node: "local", ip: "10.0.0.5" },
    endpoints: [{ name: "game", host: "mc1.zlh.localhost", port: 25565, protocol: "tcp", url: "tcp://mc1.zlh.localhost:25565" }],
    agent: { state: "error", pid: 42, restarts: 3, lastHeartbeat: "2026-01-10T11:59:50Z" },
    provisioningError: "runtime download failed",
    conditions: [{ type: "Ready", status: "False", reason: "AgentFailed", message: "exit code 1", lastTransitionTime: "2026-01-10T11:58:00Z" }],
  },
};

describe("describe sections", () => {
  it("lists metadata with sorted labels, creation age and deletion time", () => {
    const lines = describeMetadata(obj, now);
    expect(lines).toContain("Name:        mc1");
    expect(lines).toContain("Labels:      app=mc");
    expect(lines).toContain("             tier=gold");
    expect(lines).toContain("Annotations: <none>");
    expect(lines).toContain("Created:     2026-01-10T10:00:00Z (2h ago)");
    expect(lines).toContain("Deleting:    since 2026-01-10T11:59:00Z (1m ago)");
  });

  it("summarises status: workload, endpoint URLs, agent state and provisioning error", () => {
    const text = describeStatus(obj, now).join("\n");
    expect(text).toContain("Workload:    id=w-5001 node=local ip=10.0.0.5");
    expect(text).toContain("tcp://mc1.zlh.localhost:25565");
    expect(text).toContain("Agent:       error (pid 42, restarts 3, last heartbeat 10s ago)");
    expect(text).toContain("Prov. error: runtime download failed");
  });

  it("prints conditions as a table with ages", () => {
    expect(describeConditions(obj, now)).toEqual([
      "Conditions:",
      "  TYPE    STATUS   REASON        MESSAGE       AGE",
      "  Ready   False    AgentFailed   exit code 1   2m",
    ]);
    expect(describeConditions({ kind: "GameServer" }, now)).toEqual(["Conditions:  <none>"]);
  });

  it("prints events oldest first, with repeat counts and the reporting component", () => {
    const ev = (reason: string, at: string, extra: Partial<CoreV1Event> = {}): CoreV1Event =>
      ({ metadata: {}, involvedObject: { name: "mc1", kind: "GameServer" }, type: "Normal", reason, message: `${reason}\nhappened`, lastTimestamp: new Date(at), source: { component: "zlh-controller" }, ...extra }) as CoreV1Event;
    const lines = describeEvents([ev("Started", "2026-01-10T11:59:00Z", { count: 4 }), ev("Created", "2026-01-10T11:00:00Z", { type: "Warning" })], now);
    expect(lines[0]).toBe("Events:");
    expect(lines[1]).toMatch(/^ {2}TYPE +REASON +AGE +FROM +MESSAGE$/);
    expect(lines[2]).toMatch(/^ {2}Warning +Created +1h +zlh-controller +Created happened$/);
    expect(lines[3]).toMatch(/^ {2}Normal +Started +1m \(x4\) +zlh-controller +Started happened$/);
    expect(describeEvents([], now)).toEqual(["Events:      <none>"]);
  });
});
