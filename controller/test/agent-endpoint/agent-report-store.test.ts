import { describe, expect, it } from "vitest";
import type { AgentReport } from "../../../schemas/generated/types.js";
import { AgentReportStore, agentReportKey } from "../../src/agent-endpoint/agent-report-store.js";

function report(over: Partial<AgentReport> = {}): AgentReport {
  return { state: "running", restarts: 0, provisioningComplete: true, version: "0.1.0", time: "2025-01-01T00:00:00Z", ...over };
}

function storeAt(start: number) {
  const clock = { t: start, now() { return this.t; } };
  const changes: string[] = [];
  const store = new AgentReportStore({ clock, onChange: (k) => changes.push(k) });
  return { clock, changes, store };
}

describe("AgentReportStore", () => {
  const key = agentReportKey("gameservers", "default", "mc");

  it("builds keys as plural/namespace/name", () => {
    expect(key).toBe("gameservers/default/mc");
  });

  it("calls onChange for the first report and for a state change, not for heartbeats", () => {
    const { clock, changes, store } = storeAt(0);
    store.record(key, report({ state: "starting", pid: 10 }));
    expect(changes).toEqual([key]);
    for (let i = 1; i <= 5; i++) {
      clock.t = i * 5000;
      store.record(key, report({ state: "starting", pid: 10, time: new Date(clock.t).toISOString() }));
    }
    expect(changes).toEqual([key]);
    expect(store.get(key)?.receivedAt).toBe(25_000);
    store.record(key, report({ state: "running", pid: 10 }));
    expect(changes).toEqual([key, key]);
  });

  it("treats pid, restarts, generation, message and provisioning fields as meaningful", () => {
    const { changes, store } = storeAt(0);
    const steps: Partial<AgentReport>[] = [
      { pid: 1 },
      { pid: 2 },
      { pid: 2, restarts: 1 },
      { pid: 2, restarts: 1, generation: 2 },
      { pid: 2, restarts: 1, generation: 2, message: "m" },
      { pid: 2, restarts: 1, generation: 2, message: "m", provisioningComplete: false },
      { pid: 2, restarts: 1, generation: 2, message: "m", provisioningComplete: false, provisioningError: "e" },
    ];
    for (const s of steps) store.record(key, report(s));
    expect(changes).toHaveLength(steps.length);
    store.record(key, report(steps.at(-1)!));
    expect(changes).toHaveLength(steps.length);
  });

  it("compares the services list by content: an equal list in a heartbeat wakes nobody, a changed one does", () => {
    const { changes, store } = storeAt(0);
    const services = () => [{ name: "server", state: "running" as const, pid: 5, restarts: 0 }];
    store.record(key, report({ services: services() }));
    store.record(key, report({ services: services() }));
    expect(changes).toHaveLength(1);
    store.record(key, report({ services: [{ ...services()[0]!, state: "starting" as const }] }));
    expect(changes).toHaveLength(2);
  });

  it("supports extra subscribers and delete", () => {
    const { store } = storeAt(0);
    const seen: string[] = [];
    const off = store.subscribe((k) => seen.push(k));
    store.record(key, report());
    off();
    store.record(key, report({ state: "stopping" }));
    expect(seen).toEqual([key]);
    expect(store.keys()).toEqual([key]);
    store.delete(key);
    expect(store.get(key)).toBeUndefined();
  });

  it("reports AgentReady Unknown before the first report, True while heartbeats arrive, False after 3 missed", () => {
    const { clock, store } = storeAt(1_000_000);
    expect(store.agentReady(key, clock.t, 10)).toMatchObject({ status: "Unknown", reason: "NoReport" });
    store.record(key, report());
    expect(store.agentReady(key, clock.t + 29_999, 10).status).toBe("True");
    expect(store.agentReady(key, clock.t + 30_000, 10).status).toBe("True");
    const late = store.agentReady(key, clock.t + 30_001, 10);
    expect(late).toMatchObject({ status: "False", reason: "HeartbeatMissed" });
    expect(late.message).toContain("30s");
    expect(store.agentReady(key, clock.t + 49_999, 10, 5).status).toBe("True");
    // A fresh heartbeat brings it back.
    clock.t += 40_000;
    store.record(key, report());
    expect(store.agentReady(key, clock.t + 1, 10).status).toBe("True");
  });
});
