import { describe, expect, it } from "vitest";
import { pino } from "pino";
import type { AgentReport } from "../../schemas/generated/types.js";
import { Reporter } from "../src/reporter.js";
import type { SupervisorStatus } from "../src/supervisor.js";
import { FakeClock } from "./fake-clock.js";

const silent = pino({ level: "silent" });

function sink(clock: FakeClock) {
  const posted: { report: AgentReport; at: number }[] = [];
  let down = false;
  let generation = 1;
  return {
    posted,
    setDown: (d: boolean) => (down = d),
    setGeneration: (g: number) => (generation = g),
    postReport: (report: AgentReport) => {
      if (down) return Promise.reject(Object.assign(new Error("unreachable"), { reason: "Unreachable" }));
      posted.push({ report, at: clock.now() });
      return Promise.resolve({ generation });
    },
  };
}

const status = (state: SupervisorStatus["state"], over: Partial<SupervisorStatus> = {}): SupervisorStatus => ({ state, restarts: 0, provisioningComplete: false, generation: 1, ...over });

describe("Reporter", () => {
  it("posts every state change at once and a heartbeat every heartbeatSeconds", async () => {
    const clock = new FakeClock(0);
    const s = sink(clock);
    const r = new Reporter({ sink: s, clock, logger: silent, heartbeatMs: 10_000 });
    r.update(status("installing"));
    r.start();
    r.update(status("starting", { pid: 5 }));
    await clock.flush();
    expect(s.posted.map((p) => [p.report.state, p.at])).toEqual([["installing", 0], ["starting", 0]]);
    expect(s.posted[1]!.report).toMatchObject({ pid: 5, version: "0.1.0", generation: 1, restarts: 0, provisioningComplete: false });
    await clock.advance(30_000);
    expect(s.posted.slice(2).map((p) => [p.report.state, p.at])).toEqual([["starting", 10_000], ["starting", 20_000], ["starting", 30_000]]);
    expect(s.posted[3]!.report.time).toBe(new Date(20_000).toISOString());
    r.close();
    await clock.advance(60_000);
    expect(s.posted).toHaveLength(5);
  });

  it("keeps state changes in order while the controller is unreachable and delivers them when it returns", async () => {
    const clock = new FakeClock(0);
    const s = sink(clock);
    const r = new Reporter({ sink: s, clock, logger: silent, heartbeatMs: 5000, retryMs: 1000 });
    s.setDown(true);
    r.update(status("installing"));
    r.start();
    r.update(status("starting"));
    r.update(status("running", { provisioningComplete: true }));
    await clock.advance(12_000);
    expect(s.posted).toEqual([]);
    s.setDown(false);
    await clock.advance(1000);
    expect(s.posted.map((p) => p.report.state)).toEqual(["installing", "starting", "running"]);
    r.close();
  });

  it("tells the agent the generation the controller answers with", async () => {
    const clock = new FakeClock(0);
    const s = sink(clock);
    const seen: number[] = [];
    const r = new Reporter({ sink: s, clock, logger: silent, heartbeatMs: 5000, onGeneration: (g) => seen.push(g) });
    r.update(status("running"));
    await clock.flush();
    s.setGeneration(2);
    r.start();
    await clock.advance(5000);
    expect(seen).toEqual([1, 2]);
    r.close();
  });

  it("flush resolves true once the queue is delivered and false when the deadline passes first", async () => {
    const clock = new FakeClock(0);
    const s = sink(clock);
    const r = new Reporter({ sink: s, clock, logger: silent, heartbeatMs: 5000, retryMs: 500 });
    r.update(status("stopped"));
    expect(await r.flush(1000)).toBe(true);
    s.setDown(true);
    r.update(status("stopped", { message: "x" }));
    const result = r.flush(3000);
    await clock.advance(3000);
    expect(await result).toBe(false);
    r.close();
  });
});
