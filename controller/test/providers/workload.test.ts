import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { ownerMark } from "../../src/providers/owner.js";
import { defaultAgentCommand, LocalWorkloadProvider, MARKER_FILE, type WorkloadMarker } from "../../src/providers/workload/local.js";
import { MemoryWorkloadProvider } from "../../src/providers/workload/memory.js";
import { ADDRESS_BLOCK_FILE } from "../../src/providers/workload/address-block.js";
import { workloadIp } from "../../src/providers/workload/workload-rules.js";
import { isSameProcess, processStartTime, readProcStat } from "../../src/providers/workload/proc-stat.js";
import { tempDir } from "./temp-dir.js";
import { waitFor } from "./wait-for.js";
import { alice, desired, mc1, workloadProviderContract } from "./workload-contract.js";

const STANDIN = fileURLToPath(new URL("./fixtures/agent-standin.mjs", import.meta.url));

function readMarker(root: string, id: string): WorkloadMarker {
  return JSON.parse(readFileSync(join(root, id, MARKER_FILE), "utf8")) as WorkloadMarker;
}

/** The loopback block the root recorded (address-block.ts). */
function recordedBlock(root: string): number {
  return (JSON.parse(readFileSync(join(root, ADDRESS_BLOCK_FILE), "utf8")) as { block: number }).block;
}

function alive(pid: number): boolean {
  const s = readProcStat(pid);
  return s !== undefined && s.state !== "Z";
}

/** Every agent the test started is gone when it ends, whatever happened. */
function reapAgents(root: string): void {
  onTestFinished(async () => {
    const p = new LocalWorkloadProvider({ root, agentCommand: ["true"], stopGraceMs: 2_000 });
    for (const w of await p.list().catch(() => [])) await p.delete(w.id);
  });
}

function localProvider(root: string, flags: string[] = [], extra: { clock?: FakeClock; stopGraceMs?: number } = {}) {
  // The stand-in does not sandbox anything; say bwrap works so the environment is the same everywhere.
  return new LocalWorkloadProvider({ root, agentCommand: [process.execPath, STANDIN, ...flags], node: "test-node", stopGraceMs: 5_000, probeSandbox: () => ({ ok: true, detail: "test" }), ...extra });
}

/** What the stand-in wrote about itself, once the agent recorded in the marker has written it. */
async function agentInfo(root: string, id: string): Promise<{ pid: number; cwd: string; env: Record<string, string>; childPid?: number }> {
  const pid = readMarker(root, id).agent!.pid;
  return waitFor(`agent ${pid} to report`, () => {
    try {
      const info = JSON.parse(readFileSync(join(root, id, "agent-info.json"), "utf8")) as { pid: number; cwd: string; env: Record<string, string>; childPid?: number };
      return info.pid === pid ? info : undefined;
    } catch {
      return undefined;
    }
  });
}

workloadProviderContract("MemoryWorkloadProvider", async () => {
  const provider = new MemoryWorkloadProvider();
  return {
    provider,
    crashAgent: async (id) => provider.crash(id),
    agentStarts: async (id) => provider.workloads().find((w) => w.id === id)?.starts ?? 0,
    expectedIp: async (vmid) => workloadIp(vmid, provider.addressBlock),
    addForeign: async () => () => true, // memory has nothing foreign to keep
    breakBackend: async () => {
      provider.setFailing("workload api down");
      return "workload api down";
    },
    cleanup: async () => undefined,
  };
});

workloadProviderContract("LocalWorkloadProvider", async () => {
  const root = join(tempDir("workloads"), "root");
  mkdirSync(root);
  const provider = localProvider(root);
  reapAgents(root);
  return {
    provider,
    crashAgent: async (id) => {
      // Only once it is up, so the start it made is on record before it dies.
      const { pid } = await agentInfo(root, id);
      process.kill(pid, "SIGKILL");
      await waitFor(`agent ${pid} to die`, () => !alive(pid));
    },
    agentStarts: async (id) => {
      await agentInfo(root, id);
      return readFileSync(join(root, id, "agent-starts.log"), "utf8").trim().split("\n").length;
    },
    expectedIp: async (vmid) => workloadIp(vmid, recordedBlock(root)),
    addForeign: async () => {
      mkdirSync(join(root, "notes"));
      writeFileSync(join(root, "notes", "keep.txt"), "mine");
      mkdirSync(join(root, "100-gameserver-default-unmarked"));
      return () => existsSync(join(root, "notes", "keep.txt")) && existsSync(join(root, "100-gameserver-default-unmarked"));
    },
    breakBackend: async () => {
      rmSync(root, { recursive: true });
      writeFileSync(root, "not a directory");
      return root;
    },
    cleanup: async () => undefined,
  };
});

describe("LocalWorkloadProvider", () => {
  it("starts the agent in its own directory and process group with the documented environment and a 0600 token", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    process.env.ZLH_CONTROLLER_SECRET = "must-not-leak";
    onTestFinished(() => {
      delete process.env.ZLH_CONTROLLER_SECRET;
    });
    const w = await localProvider(root).create(desired(mc1, 100));
    const dir = join(root, w.id);
    const info = await agentInfo(root, w.id);

    expect(info.env).toEqual({
      ZLH_CONTROLLER_URL: "http://127.0.0.1:7443",
      ZLH_CONTROLLER_URL_FILE: join(dir, "etc/zlh/controller-url"),
      ZLH_TOKEN_FILE: join(dir, "etc/zlh/token"),
      ZLH_RESOURCE: "gameservers/default/mc1",
      ZLH_ROOT: dir,
      ZLH_IP: `127.${recordedBlock(root)}.0.100`,
      ZLH_HOSTNAME: "mc1",
      ZLH_VMID: "100",
      ZLH_SANDBOX: "bwrap",
      // As root each workload has a uid of its own (200000 + vmid by default).
      ...(process.getuid?.() === 0 ? { ZLH_RUN_AS: "200100:200100" } : {}),
    });
    expect(info.cwd).toBe(dir);
    expect(readFileSync(join(dir, "etc/zlh/controller-url"), "utf8")).toBe("http://127.0.0.1:7443\n");
    expect(statSync(join(dir, "etc/zlh/controller-url")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "etc/zlh")).mode & 0o777).toBe(0o700);
    expect(readProcStat(info.pid)?.pgrp).toBe(info.pid);
    expect(readFileSync(join(dir, "etc/zlh/token"), "utf8")).toBe("token-for-mc1");
    expect(statSync(join(dir, "etc/zlh/token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "home/dev/workspace")).isDirectory()).toBe(true);
    await waitFor("agent log line", () => readFileSync(join(dir, "var/log/agent.log"), "utf8").includes("agent stand-in up"));

    const marker = readMarker(root, w.id);
    expect(marker).toMatchObject({ ownerMark: ownerMark(mc1), vmid: 100, ip: w.ip, node: "test-node" });
    expect(marker.agent).toEqual({ pid: info.pid, startTime: processStartTime(info.pid) });
    expect(readFileSync(join(dir, MARKER_FILE), "utf8")).not.toContain("token-for-mc1");
  });

  it("is found again by a new provider instance, which does not start a second agent", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    const w = await localProvider(root).create(desired(mc1, 100));
    const { pid } = await agentInfo(root, w.id);

    const restarted = localProvider(root);
    expect((await restarted.observe([mc1]))[0]).toEqual({ ...w, running: true });
    expect(await restarted.start(w.id)).toEqual({ ...w, running: true });
    expect(readMarker(root, w.id).agent?.pid).toBe(pid);
    expect(readFileSync(join(root, w.id, "agent-starts.log"), "utf8").trim().split("\n")).toEqual([String(pid)]);
  });

  it("does not take a live process with a recycled pid for the agent, and never signals it", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    // A stranger: its own process group leader, like any daemon that might get the agent's old pid.
    const stranger = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { detached: true, stdio: "ignore" });
    onTestFinished(() => {
      stranger.kill("SIGKILL");
    });
    const pid = await waitFor("stranger to start", () => stranger.pid);
    const strangerStart = await waitFor("stranger's start time", () => processStartTime(pid));
    const id = "100-gameserver-default-mc1";
    mkdirSync(join(root, id), { recursive: true });
    const marker: WorkloadMarker = {
      ownerMark: ownerMark(mc1),
      vmid: 100,
      ip: "127.200.0.100",
      hostname: "mc1",
      node: "test-node",
      resource: "gameservers/default/mc1",
      controllerUrl: "http://127.0.0.1:7443",
      resources: { cpu: 1, memoryMiB: 512, diskGiB: 1 },
      agent: { pid, startTime: strangerStart - 1 },
    };
    const plant = () => {
      mkdirSync(join(root, id, "var/log"), { recursive: true });
      writeFileSync(join(root, id, MARKER_FILE), JSON.stringify(marker));
    };
    plant();

    const p = localProvider(root);
    expect(((await p.observe([mc1]))[0])?.running).toBe(false);
    await p.delete(id);
    expect(existsSync(join(root, id))).toBe(false);
    expect(isSameProcess(pid, strangerStart)).toBe(true);

    plant();
    const restarted = await p.start(id);
    expect(restarted.running).toBe(true);
    const agent = readMarker(root, id).agent!.pid;
    expect(agent).not.toBe(pid);
    await p.delete(id);
    expect(alive(agent)).toBe(false);
    expect(isSameProcess(pid, strangerStart)).toBe(true);
  });

  it("deletes by stopping the agent's whole process group, then removing the directory", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    const p = localProvider(root, ["--with-child"]);
    const w = await p.create(desired(alice, 101));
    const info = await agentInfo(root, w.id);
    expect(info.childPid).toBeDefined();
    expect(readProcStat(info.childPid!)?.pgrp).toBe(info.pid);

    await p.delete(w.id);
    expect(alive(info.pid)).toBe(false);
    expect(alive(info.childPid!)).toBe(false);
    expect(existsSync(join(root, w.id))).toBe(false);
    expect(await p.list()).toEqual([]);
  });

  it("adopts a running agent its marker does not name (crash between spawn and record) instead of starting a second", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    const p = localProvider(root);
    const w = await p.create(desired(alice, 103));
    const agent = await agentInfo(root, w.id);
    const marker = readMarker(root, w.id);
    delete marker.agent;
    writeFileSync(join(root, w.id, MARKER_FILE), JSON.stringify(marker));
    expect(((await p.observe([alice]))[0])?.running).toBe(false);

    const started = await p.start(w.id);
    expect(started.running).toBe(true);
    expect(readMarker(root, w.id).agent?.pid).toBe(agent.pid);
    expect(readFileSync(join(root, w.id, "agent-starts.log"), "utf8").trim().split("\n")).toEqual([String(agent.pid)]);
  });

  it("stops an agent its marker does not name when the workload is deleted", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    const p = localProvider(root);
    const w = await p.create(desired(alice, 104));
    const agent = await agentInfo(root, w.id);
    const marker = readMarker(root, w.id);
    delete marker.agent;
    writeFileSync(join(root, w.id, MARKER_FILE), JSON.stringify(marker));

    await p.delete(w.id);
    expect(alive(agent.pid)).toBe(false);
    expect(existsSync(join(root, w.id))).toBe(false);
  });

  it("also stops the server an agent left behind in its own process group (named by run/server.pid)", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    const p = localProvider(root);
    const w = await p.create(desired(alice, 102));
    const agent = await agentInfo(root, w.id);
    // What a SIGKILLed agent leaves: its server, detached in a group of its own.
    const server = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
    server.unref();
    const startTime = await waitFor("server start time", () => processStartTime(server.pid!));
    mkdirSync(join(root, w.id, "run"), { recursive: true });
    writeFileSync(join(root, w.id, "run/server.pid"), JSON.stringify({ pid: server.pid, startTime: String(startTime) }));
    process.kill(agent.pid, "SIGKILL");

    await p.delete(w.id);
    expect(alive(server.pid!)).toBe(false);
    expect(existsSync(join(root, w.id))).toBe(false);
  });

  it("SIGKILLs an agent that ignores SIGTERM once the grace period has passed on the clock", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    const clock = new FakeClock();
    const p = localProvider(root, ["--ignore-term"], { clock, stopGraceMs: 40_000 });
    const w = await p.create(desired(mc1, 100));
    const { pid } = await agentInfo(root, w.id);

    let deleted = false;
    const deletion = p.delete(w.id).then(() => {
      deleted = true;
    });
    const signals = join(root, w.id, "agent-signals.log");
    await waitFor("SIGTERM to reach the agent", () => existsSync(signals) && readFileSync(signals, "utf8").includes("SIGTERM"));
    await clock.advanceAsync(39_000);
    expect(alive(pid)).toBe(true);
    expect(deleted).toBe(false);

    // Drive the fake clock until the delete returns; the deadline only guards against a hang.
    const deadline = Date.now() + 10_000;
    while (!deleted && Date.now() < deadline) await clock.advanceAsync(1_000);
    await deletion;
    // It ignores SIGTERM, so only the SIGKILL can end it.
    await waitFor(`agent ${pid} to die`, () => !alive(pid));
    expect(existsSync(join(root, w.id))).toBe(false);
  });

  it("reports an agent command that cannot start, and leaves a workload that start() can fix", async () => {
    const root = tempDir("workloads");
    reapAgents(root);
    const broken = new LocalWorkloadProvider({ root, agentCommand: [join(root, "no-such-agent")] });
    await expect(broken.create(desired(mc1, 100))).rejects.toMatchObject({
      reason: "Unavailable",
      message: expect.stringContaining("no-such-agent"),
    });
    expect(((await broken.observe([mc1]))[0])?.running).toBe(false);
    expect((await localProvider(root).start("100-gameserver-default-mc1")).running).toBe(true);
  });

  it("runs the bundled agent (plain JavaScript) by default", () => {
    const [node, main, ...rest] = defaultAgentCommand();
    expect(node).toBe(process.execPath);
    expect(main).toMatch(/\/dist\/agent\/zlh-agent\.mjs$/);
    expect(rest).toEqual([]);
    expect(existsSync(main!)).toBe(true);
  });
});
