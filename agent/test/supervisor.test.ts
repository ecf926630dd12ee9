import { describe, expect, it } from "vitest";
import { planServer, type ServerPlan } from "../src/server-plan.js";
import { STRAY_CHECK_MS, Supervisor, type SupervisorStatus } from "../src/supervisor.js";
import type { GameServerSpec } from "../../schemas/generated/types.js";
import { FakeClock } from "./fake-clock.js";
import { FakeLauncher, MemoryPidStore } from "./fake-launcher.js";

const S = 1000;

function plan(over: Partial<GameServerSpec> = {}, generation = 1): ServerPlan {
  const spec: GameServerSpec = { game: "generic", command: ["srv", "--port", "$(PORT_GAME)"], ports: [{ name: "game", port: 25565 }], ...over };
  return planServer(spec, { root: "/r", ip: "127.0.0.9", generation, allocated: [], inherited: {} });
}

function setup(opts: { probe?: (host: string, port: number) => Promise<boolean> } = {}) {
  const clock = new FakeClock();
  const launcher = new FakeLauncher(() => clock.now());
  const pidfile = new MemoryPidStore();
  const states: SupervisorStatus[] = [];
  const probes: { host: string; port: number; at: number }[] = [];
  const probe =
    opts.probe ??
    ((host: string, port: number) => {
      probes.push({ host, port, at: clock.now() });
      return Promise.resolve(false);
    });
  const sup = new Supervisor({ clock, launcher, pidfile, probe, onStatus: (s) => states.push(s) });
  const t0 = clock.now();
  return { clock, launcher, pidfile, states, probes, sup, t0, last: () => states.at(-1)! };
}

describe("Supervisor", () => {
  it("probes the readiness port every 500 ms and reports running once it connects", async () => {
    let calls = 0;
    const at: number[] = [];
    const env = setup({
      probe: (host, port) => {
        expect([host, port]).toEqual(["127.0.0.9", 25565]);
        at.push(env.clock.now() - env.t0);
        return Promise.resolve(++calls === 3);
      },
    });
    env.sup.start(plan());
    await env.clock.flush();
    expect(env.last()).toMatchObject({ state: "starting", pid: 1000, provisioningComplete: false, generation: 1 });
    await env.clock.advance(5 * S);
    expect(at).toEqual([0, 500, 1000]);
    expect(env.last()).toMatchObject({ state: "running", pid: 1000, provisioningComplete: true, restarts: 0 });
    expect(env.pidfile.record).toMatchObject({ pid: 1000, startTime: "start-1000", generation: 1 });
  });

  it("kills servers no pidfile names and launches only once they are gone", async () => {
    const env = setup();
    env.launcher.strays = 2; // gone after the second SIGKILL round
    env.sup.start(plan());
    expect(env.launcher.launched).toHaveLength(0);
    await env.clock.advance(STRAY_CHECK_MS);
    expect(env.launcher.launched).toHaveLength(0);
    await env.clock.advance(STRAY_CHECK_MS);
    expect(env.launcher.strayCalls).toBe(3);
    expect(env.launcher.launched).toHaveLength(1);
    expect(env.pidfile.record?.pid).toBe(env.launcher.last.pid);
  });

  it("does not count a TCP connection once its server is dead, even before the exit arrives", async () => {
    const env = setup({ probe: () => Promise.resolve(true) });
    env.sup.start(plan());
    // The server died on EADDRINUSE; the kernel knows, its exit event is not delivered yet.
    env.launcher.startTimes.delete(env.launcher.last.pid);
    await env.clock.advance(2 * S);
    expect(env.last().state).toBe("starting");
    env.launcher.last.exit(1);
    await env.clock.flush();
    expect(env.last().message).toMatch(/^server exited with code 1; restarting/);
  });

  it("reports running when the log-line pattern appears in the output", async () => {
    const env = setup();
    env.sup.start(plan({ readiness: { logLine: { pattern: "Done \\(\\d+\\.\\d+s\\)!" } } }));
    env.launcher.last.print("Loading world");
    expect(env.last().state).toBe("starting");
    env.launcher.last.print("[12:00] Done (3.2s)! For help, type help");
    expect(env.last()).toMatchObject({ state: "running", provisioningComplete: true });
    expect(env.probes).toEqual([]);
  });

  it("restarts a crashing server after 30, 60, then 120 s, repeating the last value", async () => {
    const env = setup();
    env.sup.start(plan({ restartPolicy: { maxAttempts: 5 } }));
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = env.launcher.launched.length;
      const crashedAt = env.clock.now();
      env.launcher.last.exit(1);
      expect(env.last()).toMatchObject({ state: "starting", restarts: i });
      expect(env.last().pid).toBeUndefined();
      expect(env.last().message).toContain("exited with code 1");
      while (env.launcher.launched.length === before) await env.clock.advance(S);
      waits.push((env.launcher.launched.at(-1)!.at - crashedAt) / S);
      expect(env.last()).toMatchObject({ state: "starting", restarts: i + 1, pid: env.launcher.last.pid });
    }
    expect(waits).toEqual([30, 60, 120, 120, 120]);
  });

  it("gives up with error after maxAttempts restarts, naming the exit and the last log lines", async () => {
    const env = setup();
    env.sup.start(plan());
    for (let i = 0; i < 3; i++) {
      env.launcher.last.exit(1);
      await env.clock.advance(200 * S);
    }
    expect(env.launcher.launched).toHaveLength(4);
    env.launcher.last.exit(null, "SIGSEGV");
    const s = env.last();
    expect(s).toMatchObject({ state: "error", restarts: 3 });
    expect(s.provisioningError).toContain("killed by SIGSEGV");
    expect(s.provisioningError).toContain("Exception in thread main: boom");
    expect(s.message).toBe(s.provisioningError);
    await env.clock.advance(3600 * S);
    expect(env.launcher.launched).toHaveLength(4);
    expect(env.pidfile.record).toBeUndefined();
  });

  it("counts a readiness timeout as a crash: kills the group and restarts after backoff", async () => {
    const env = setup();
    env.sup.start(plan({ readiness: { timeoutSeconds: 60 } }));
    const first = env.launcher.last;
    await env.clock.advance(60 * S - 1);
    expect(first.signals).toEqual([]);
    await env.clock.advance(1);
    expect(first.signals).toEqual(["SIGKILL"]);
    expect(env.last()).toMatchObject({ state: "starting", restarts: 0 });
    expect(env.last().message).toMatch(/not ready after 60s.*restarting in 30s/);
    await env.clock.advance(30 * S);
    expect(env.launcher.launched).toHaveLength(2);
    expect(env.last()).toMatchObject({ state: "starting", restarts: 1 });
  });

  it("starts the attempt count over after the server ran for 10 minutes", async () => {
    let up = false;
    const env = setup({ probe: () => Promise.resolve(up) });
    env.sup.start(plan({ restartPolicy: { maxAttempts: 1 } }));
    up = true;
    await env.clock.advance(S);
    expect(env.last().state).toBe("running");
    env.launcher.last.exit(1);
    await env.clock.advance(30 * S);
    await env.clock.advance(S);
    expect(env.last().state).toBe("running");
    // Ran 10 minutes: the next crash is forgiven instead of exhausting maxAttempts=1.
    await env.clock.advance(10 * 60 * S);
    env.launcher.last.exit(1);
    expect(env.last().state).toBe("starting");
    await env.clock.advance(31 * S);
    expect(env.last()).toMatchObject({ state: "running", restarts: 2 });
    // A quick crash right after is not forgiven.
    env.launcher.last.exit(1);
    expect(env.last().state).toBe("error");
  });

  it("stops gracefully: writes the stop command, then SIGKILLs the group when the grace period ends", async () => {
    const env = setup();
    env.launcher.diesOn = []; // ignores everything but SIGKILL
    env.sup.start(plan({ shutdown: { command: "stop", graceSeconds: 20 } }));
    const proc = env.launcher.last;
    let stopped = false;
    const done = env.sup.stop().then(() => (stopped = true));
    expect(env.last()).toMatchObject({ state: "stopping", pid: proc.pid });
    expect(proc.stdin).toEqual(["stop"]);
    expect(proc.signals).toEqual([]);
    await env.clock.advance(20 * S - 1);
    expect(proc.signals).toEqual([]);
    expect(stopped).toBe(false);
    await env.clock.advance(1);
    expect(proc.signals).toEqual(["SIGKILL"]);
    await done;
    expect(env.last().state).toBe("stopped");
    expect(env.last().pid).toBeUndefined();
    expect(env.pidfile.record).toBeUndefined();
    expect(env.launcher.launched).toHaveLength(1);
  });

  it("stops with SIGTERM when there is no stop command, and does not SIGKILL a server that exits in time", async () => {
    const env = setup();
    env.sup.start(plan());
    const proc = env.launcher.last;
    await env.sup.stop();
    expect(proc.signals).toEqual(["SIGTERM"]);
    await env.clock.advance(60 * S);
    expect(proc.signals).toEqual(["SIGTERM"]);
    expect(env.states.map((s) => s.state)).toEqual(["starting", "stopping", "stopped"]);
  });

  it("stopping during a restart backoff stops without launching again", async () => {
    const env = setup();
    env.sup.start(plan());
    env.launcher.last.exit(1);
    await env.sup.stop();
    await env.clock.advance(600 * S);
    expect(env.launcher.launched).toHaveLength(1);
    expect(env.last().state).toBe("stopped");
  });

  it("reattaches to the server in the pidfile when its start time matches", async () => {
    let up = false;
    const env = setup({ probe: () => Promise.resolve(up) });
    env.launcher.startTimes.set(4242, "8812345");
    env.pidfile.record = { pid: 4242, startTime: "8812345", generation: 1 };
    env.sup.start(plan());
    expect(env.launcher.launched).toHaveLength(0);
    expect(env.launcher.attached.map((p) => p.pid)).toEqual([4242]);
    expect(env.last()).toMatchObject({ state: "starting", pid: 4242 });
    up = true;
    await env.clock.advance(S);
    expect(env.last()).toMatchObject({ state: "running", pid: 4242, provisioningComplete: true });
    // Not our child: a graceful stop signals it instead of writing to stdin.
    await env.sup.stop();
    expect(env.launcher.attached[0]!.signals).toEqual(["SIGTERM"]);
  });

  it("a readiness line already in the log when watching starts counts: a reattached server is running at once", () => {
    const env = setup();
    env.launcher.startTimes.set(4242, "1");
    env.launcher.loggedOnAttach = ["Done (3.2s)! For help, type help"];
    env.pidfile.record = { pid: 4242, startTime: "1", generation: 1, logOffset: 0 };
    env.sup.start(plan({ readiness: { logLine: { pattern: "Done \\(" } } }));
    expect(env.last()).toMatchObject({ state: "running", pid: 4242, provisioningComplete: true });
  });

  it("does not reattach when the pid now belongs to a process with another start time", () => {
    const env = setup();
    env.launcher.startTimes.set(4242, "9999999");
    env.pidfile.record = { pid: 4242, startTime: "8812345" };
    env.sup.start(plan());
    expect(env.launcher.attached).toHaveLength(0);
    expect(env.launcher.launched).toHaveLength(1);
    expect(env.pidfile.removed).toBe(1);
    expect(env.pidfile.record).toMatchObject({ pid: 1000, startTime: "start-1000" });
  });

  it("replaces a reattached server that runs an older generation", async () => {
    const env = setup();
    env.launcher.startTimes.set(4242, "1");
    env.pidfile.record = { pid: 4242, startTime: "1", generation: 1 };
    env.sup.start(plan({}, 2));
    await env.clock.flush();
    expect(env.launcher.attached[0]!.signals).toEqual(["SIGTERM"]);
    expect(env.launcher.launched).toHaveLength(1);
    expect(env.last()).toMatchObject({ state: "starting", pid: 1000, generation: 2 });
  });

  it("restarts with a new plan on a generation change, without counting it as a crash restart", async () => {
    const env = setup({ probe: () => Promise.resolve(true) });
    env.sup.start(plan());
    await env.clock.flush();
    await env.sup.restartWith(plan({ command: ["srv2"] }, 2));
    await env.clock.flush();
    expect(env.launcher.launched.map((l) => l.plan.argv[0])).toEqual(["srv", "srv2"]);
    expect(env.launcher.launched[0]!.process.signals).toEqual(["SIGTERM"]);
    expect(env.last()).toMatchObject({ state: "running", generation: 2, restarts: 0 });
  });

  it("treats a launch failure like a crash and reports the reason", async () => {
    const env = setup();
    env.launcher.failNextLaunch = 'cannot start server: command "srv" not found or not executable';
    env.sup.start(plan());
    expect(env.last()).toMatchObject({ state: "starting" });
    expect(env.last().message).toContain('command "srv" not found');
    await env.clock.advance(30 * S);
    expect(env.launcher.launched).toHaveLength(1);
  });

  it("never starts a server again once stop() was called", async () => {
    const env = setup();
    await env.sup.stop();
    env.sup.start(plan());
    await env.sup.restartWith(plan({}, 2));
    expect(env.launcher.launched).toHaveLength(0);
    expect(env.last().state).toBe("stopped");
  });
});
