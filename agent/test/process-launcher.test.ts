// Real processes: process groups, the log file, start times and reattachment.
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { realClock } from "../src/clock.js";
import { PidFile, processStartTime } from "../src/pidfile.js";
import { ProcessLauncher } from "../src/process-launcher.js";
import { planServer, type ServerPlan } from "../src/server-plan.js";
import type { ProcessExit } from "../src/supervisor.js";
import { isAlive, waitFor } from "./wait-for.js";

const dirs: string[] = [];
const pids: number[] = [];

afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function planFor(script: string): ServerPlan {
  const root = mkdtempSync(join(tmpdir(), "zlh-launcher-"));
  dirs.push(root);
  return planServer(
    { game: "generic", command: [process.execPath, "-e", script], ports: [{ name: "game", port: 1 }] },
    { root, ip: "127.0.0.1", generation: 1, allocated: [], inherited: { PATH: process.env.PATH } },
  );
}

function exitOf(p: { onExit(l: (e: ProcessExit) => void): void }): Promise<ProcessExit> {
  return new Promise((resolve) => p.onExit(resolve));
}

function pgrpOf(pid: number): string | undefined {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2];
}

describe("ProcessLauncher", () => {
  const launcher = new ProcessLauncher(realClock);

  it("starts the server in its own process group, appending its output to the log file", async () => {
    const plan = planFor("console.log('hello from', process.env.HOST, process.cwd()); console.error('to stderr'); setInterval(() => {}, 1000)");
    mkdirSync(dirname(plan.logFile), { recursive: true });
    writeFileSync(plan.logFile, "earlier run\n");
    const { process: proc, startTime, logOffset } = launcher.launch(plan);
    pids.push(proc.pid);
    expect(logOffset).toBe("earlier run\n".length);
    expect(startTime).toBe(processStartTime(proc.pid));
    expect(pgrpOf(proc.pid)).toBe(String(proc.pid));
    const lines: string[] = [];
    proc.onLine((l) => lines.push(l));
    await waitFor("output lines", () => lines.length >= 2);
    expect(lines.sort()).toEqual([`hello from 127.0.0.1 ${plan.cwd}`, "to stderr"].sort());
    expect(readFileSync(plan.logFile, "utf8")).toMatch(/^earlier run\n/);
    expect(launcher.lastLogLines(plan, 2).sort()).toEqual(lines.sort());
    const exited = exitOf(proc);
    proc.signalGroup("SIGTERM");
    expect(await exited).toEqual({ code: null, signal: "SIGTERM" });
    proc.release();
  });

  it("signals the whole group, so the server's own children stop with it", async () => {
    const plan = planFor(
      "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' }); console.log('child', c.pid); setInterval(() => {}, 1000)",
    );
    const { process: proc } = launcher.launch(plan);
    pids.push(proc.pid);
    let grandchild = 0;
    proc.onLine((l) => {
      const m = /^child (\d+)$/.exec(l);
      if (m) grandchild = Number(m[1]);
    });
    await waitFor("grandchild pid", () => grandchild > 0);
    expect(isAlive(grandchild)).toBe(true);
    const exited = exitOf(proc);
    proc.signalGroup("SIGTERM");
    await exited;
    await waitFor("grandchild gone", () => !isAlive(grandchild));
    proc.release();
  });

  it("delivers stdin lines to a server it started", async () => {
    const plan = planFor("process.stdin.on('data', d => { if (String(d).trim() === 'stop') { console.log('bye'); process.exit(7); } })");
    const { process: proc } = launcher.launch(plan);
    pids.push(proc.pid);
    const exited = exitOf(proc);
    expect(proc.writeLine("stop")).toBe(true);
    expect(await exited).toEqual({ code: 7, signal: null });
    expect(readFileSync(plan.logFile, "utf8")).toContain("bye");
  });

  it("refuses to launch a command that does not exist, naming it", () => {
    const plan = { ...planFor(""), argv: ["no-such-server-binary"] };
    expect(() => launcher.launch(plan)).toThrow('command "no-such-server-binary" not found or not executable');
  });

  it("watches a reattached server by polling and reports when it is gone", async () => {
    const plan = planFor("");
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
    pids.push(child.pid!);
    const startTime = await waitFor("start time", () => processStartTime(child.pid!));
    const proc = launcher.attach({ pid: child.pid!, startTime }, plan);
    expect(proc.writeLine("stop")).toBe(false);
    const exited = exitOf(proc);
    proc.signalGroup("SIGTERM");
    expect((await exited).description).toContain("reattached");
    proc.release();
  });
});

describe("pidfile", () => {
  it("reads the start time of a live process and nothing for a dead one", async () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(process.pid)).toBe(processStartTime(process.pid));
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((r) => child.once("exit", r));
    expect(processStartTime(child.pid!)).toBeUndefined();
  });

  it("round-trips a record atomically and treats a garbled file as absent", () => {
    const dir = mkdtempSync(join(tmpdir(), "zlh-pidfile-"));
    dirs.push(dir);
    const f = new PidFile(join(dir, "run", "server.pid"));
    expect(f.read()).toBeUndefined();
    f.write({ pid: 42, startTime: "123", logOffset: 5, generation: 2 });
    expect(f.read()).toEqual({ pid: 42, startTime: "123", logOffset: 5, generation: 2 });
    writeFileSync(f.path, "{not json");
    expect(f.read()).toBeUndefined();
    f.remove();
    f.remove();
    expect(f.read()).toBeUndefined();
  });
});

describe("ProcessLauncher.stopStrays", () => {
  it("kills the process group of a server of this service that no pidfile names, and only that", async () => {
    const plan = planFor("setInterval(() => {}, 1000)");
    const other = planFor("setInterval(() => {}, 1000)");
    const launcher = new ProcessLauncher(realClock);
    // As a dead agent left them: launched (so marked) but never recorded.
    const orphan = launcher.launch(plan).process;
    const neighbour = launcher.launch(other).process;
    pids.push(orphan.pid, neighbour.pid);
    const child = spawn("sh", ["-c", "sleep 600 & wait"], { detached: true, stdio: "ignore", env: { ...process.env, ZLH_SERVICE_PIDFILE: plan.pidFile } });
    pids.push(child.pid!);
    expect(launcher.stopStrays(plan)).toBeGreaterThanOrEqual(2);
    await waitFor("the strays to die", () => !isAlive(orphan.pid) && !isAlive(child.pid!));
    // The group's `sleep` dies of the same SIGKILL a moment later; until then it still counts.
    await waitFor("no stray left", () => launcher.stopStrays(plan) === 0);
    expect(isAlive(neighbour.pid)).toBe(true);
    orphan.release();
    neighbour.release();
  });
});
