import { describe, expect, it } from "vitest";
import { planServer, type ServerPlan } from "../src/server-plan.js";
import { ServiceSet, changedLaunchInputs } from "../src/service-set.js";
import type { SupervisorStatus } from "../src/supervisor.js";
import type { GameServerSpec } from "../../schemas/generated/types.js";
import { FakeClock } from "./fake-clock.js";
import { FakeLauncher, MemoryPidStore } from "./fake-launcher.js";

function plan(over: Partial<GameServerSpec>, generation: number): ServerPlan {
  const spec: GameServerSpec = { game: "generic", command: ["srv"], ports: [{ name: "game", port: 25565 }], readiness: { logLine: { pattern: "ready" } }, ...over };
  return planServer(spec, { root: "/r", ip: "127.0.0.9", generation, allocated: [], inherited: {} });
}

function setup() {
  const clock = new FakeClock();
  const launcher = new FakeLauncher(() => clock.now());
  const pidfile = new MemoryPidStore();
  const seen: SupervisorStatus[] = [];
  const set = new ServiceSet({ clock, launcher, probe: () => Promise.resolve(false), pidStore: () => pidfile, onChange: (_n, s) => seen.push(s) });
  return { clock, launcher, pidfile, set, last: () => seen.at(-1)! };
}

describe("ServiceSet: a new generation restarts the server only when its inputs changed", () => {
  it("keeps the server running when only shutdown.graceSeconds changed, and reports the new generation", async () => {
    const env = setup();
    env.launcher.diesOn = []; // a server that only SIGKILL stops, to see which grace period applies
    await env.set.apply([plan({}, 1)]);
    env.launcher.last.print("ready");
    await env.set.apply([plan({ shutdown: { graceSeconds: 120 } }, 2)]);
    expect(env.launcher.launched).toHaveLength(1);
    expect(env.launcher.last.signals).toEqual([]);
    expect(env.last()).toMatchObject({ state: "running", generation: 2 });
    expect(env.pidfile.record?.generation).toBe(2);
    // The new grace period is the one a later stop uses.
    const stopped = env.set.stopAll();
    await env.clock.advance(60_000);
    expect(env.launcher.last.signals).toEqual(["SIGTERM"]);
    await env.clock.advance(60_000);
    await stopped;
    expect(env.launcher.last.signals).toEqual(["SIGTERM", "SIGKILL"]);
  });

  it("restarts when the command changed, naming what changed", async () => {
    const env = setup();
    await env.set.apply([plan({}, 1)]);
    env.launcher.last.print("ready");
    await env.set.apply([plan({ command: ["srv", "--new"] }, 2)]);
    expect(env.launcher.launched).toHaveLength(2);
    expect(env.last()).toMatchObject({ state: "starting", generation: 2, message: "restarted for generation 2: argv changed" });
  });

  it("names env and readiness changes as launch inputs, not the grace period", () => {
    expect(changedLaunchInputs(plan({}, 1), plan({ env: { A: "1" } }, 2))).toEqual(["env"]);
    expect(changedLaunchInputs(plan({}, 1), plan({ readiness: { tcp: { port: 25565 } } }, 2))).toEqual(["readiness"]);
    expect(changedLaunchInputs(plan({}, 1), plan({ shutdown: { graceSeconds: 5 } }, 2))).toEqual([]);
  });
});
