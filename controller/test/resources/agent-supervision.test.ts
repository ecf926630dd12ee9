import { describe, expect, it } from "vitest";
import { AgentReportStore } from "../../src/agent-endpoint/agent-report-store.js";
import { FakeClock } from "../../src/engine/clock.js";
import { AgentSupervisor } from "../../src/resources/agent-supervision.js";
import { running } from "./harness.js";

const owner = { kind: "GameServer" as const, namespace: "default", name: "mc1", uid: "u1" };
const key = "gameservers/default/mc1";

function setup() {
  const clock = new FakeClock(0);
  const reports = new AgentReportStore({ clock });
  const enqueued: number[] = [];
  const invalidated: number[] = [];
  const supervisor = new AgentSupervisor({
    reports,
    heartbeatSeconds: 5,
    missedHeartbeats: 3,
    resources: () => [{ key, owner }],
    enqueue: () => void enqueued.push(clock.now()),
    invalidate: () => void invalidated.push(clock.now()),
  });
  // The manager ticks once per heartbeat.
  const beats = (n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(5000);
      supervisor.tick(clock.now());
    }
  };
  return { clock, reports, supervisor, enqueued, invalidated, beats };
}

describe("AgentSupervisor", () => {
  it("leaves a reporting agent alone", () => {
    const s = setup();
    for (let i = 0; i < 20; i++) {
      s.reports.record(key, running(new Date(s.clock.now()).toISOString()));
      s.beats(1);
    }
    expect(s.enqueued).toEqual([]);
    expect(s.invalidated).toEqual([]);
  });

  it("wakes a resource whose agent stopped reporting, and again every window while it stays silent", () => {
    const s = setup();
    s.reports.record(key, running(new Date(0).toISOString()));
    s.beats(1);
    expect(s.enqueued).toEqual([]);
    // Last report at 0; 3 beats of 5 s missed at 15 s (AgentReady turns False at > 15 s).
    s.beats(3);
    expect(s.invalidated).toEqual([20_000]);
    expect(s.enqueued).toEqual([20_000]);
    // Still silent (the restarted agent died before reporting): again one window later.
    s.beats(3);
    expect(s.invalidated).toEqual([20_000, 35_000]);
    s.beats(3);
    expect(s.invalidated).toEqual([20_000, 35_000, 50_000]);
  });

  it("wakes a resource whose agent never reported once a window has passed", () => {
    const s = setup();
    // First noticed at the sweep of 5 s; a window (15 s) later it is woken.
    s.beats(3);
    expect(s.invalidated).toEqual([]);
    s.beats(1);
    expect(s.invalidated).toEqual([20_000]);
    expect(s.enqueued).toEqual([20_000]);
  });

  it("enqueues (without invalidating) when the agent comes back", () => {
    const s = setup();
    s.reports.record(key, running(new Date(0).toISOString()));
    s.beats(4);
    s.reports.record(key, running(new Date(s.clock.now()).toISOString()));
    s.beats(1);
    expect(s.enqueued).toEqual([20_000, 25_000]);
    expect(s.invalidated).toEqual([20_000]);
  });
});
