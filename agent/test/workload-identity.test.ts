// Workload processes run as their own user in a bubblewrap sandbox: real bwrap, real setpriv,
// real files. These tests need root (to switch users) and bwrap, as CI has (.ci/run).
import { afterEach, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realClock } from "../src/clock.js";
import { ProcessLauncher } from "../src/process-launcher.js";
import { planServer, type ServerPlan } from "../src/server-plan.js";
import type { ProcessExit } from "../src/supervisor.js";
import { readWorkloadIdentity, workloadSpawn, WORKLOAD_MARK_VARIABLE, type WorkloadIdentity } from "../src/workload-identity.js";
import { isAlive, waitFor } from "./wait-for.js";

const dirs: string[] = [];
const groups: number[] = [];
afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data directory as the controller leaves it: secrets at the top, workloads below. */
function dataDir() {
  const data = mkdtempSync(join(tmpdir(), "zlh-identity-"));
  dirs.push(data);
  chmodSync(data, 0o700);
  for (const f of ["admin.token", "agent.secret", "tls.key"]) writeFileSync(join(data, f), `secret ${f}\n`, { mode: 0o600 });
  const root = join(data, "workloads", "100-gameserver-default-mc1");
  const other = join(data, "workloads", "101-gameserver-default-other");
  mkdirSync(join(root, "etc/zlh"), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, "etc/zlh/token"), "agent token\n", { mode: 0o600 });
  mkdirSync(join(other, "srv"), { recursive: true });
  writeFileSync(join(other, "srv/world.dat"), "someone else's world\n", { mode: 0o644 });
  return { data, root };
}

const uid = 200_000 + 100 + Math.floor(Math.random() * 50_000);
const sandboxed = (root: string, data: string): WorkloadIdentity => ({ runAs: { uid, gid: uid }, sandbox: "bwrap", root, hide: [data], hostname: "mc1" });

function plan(root: string, script: string): ServerPlan {
  return planServer(
    { game: "generic", command: ["sh", "-c", script], ports: [{ name: "game", port: 1 }], shutdown: { graceSeconds: 5 } },
    { root, ip: "127.0.0.1", generation: 1, allocated: [], inherited: { PATH: process.env.PATH } },
  );
}

function exitOf(p: { onExit(l: (e: ProcessExit) => void): void }): Promise<ProcessExit> {
  return new Promise((resolve) => p.onExit(resolve));
}

describe("readWorkloadIdentity", () => {
  it("reads the user, the sandbox and the directories to hide", () => {
    expect(readWorkloadIdentity({ ZLH_RUN_AS: "200100:200100", ZLH_SANDBOX: "bwrap", ZLH_ROOT: "/d/workloads/w/", ZLH_SANDBOX_HIDE: "/d:/etc/zlh", ZLH_HOSTNAME: "mc1" })).toEqual({
      runAs: { uid: 200100, gid: 200100 },
      sandbox: "bwrap",
      root: "/d/workloads/w/",
      hide: ["/d", "/etc/zlh"],
      hostname: "mc1",
    });
    expect(readWorkloadIdentity({})).toEqual({ sandbox: "none", hide: [] });
  });

  it.each([
    [{ ZLH_RUN_AS: "0:0" }, /ZLH_RUN_AS "0:0".*never root/],
    [{ ZLH_RUN_AS: "dev" }, /ZLH_RUN_AS "dev"/],
    [{ ZLH_SANDBOX: "docker" }, /ZLH_SANDBOX "docker" must be bwrap or none/],
    [{ ZLH_SANDBOX: "bwrap" }, /needs ZLH_ROOT/],
    [{ ZLH_SANDBOX: "bwrap", ZLH_ROOT: "/w", ZLH_SANDBOX_HIDE: "relative/dir" }, /ZLH_SANDBOX_HIDE: "relative\/dir"/],
    [{ ZLH_SANDBOX: "bwrap", ZLH_ROOT: "/w", ZLH_SANDBOX_HIDE: "/" }, /ZLH_SANDBOX_HIDE: "\/"/],
  ])("refuses %j", (env, message) => {
    expect(() => readWorkloadIdentity(env)).toThrow(message);
  });
});

describe("workloadSpawn", () => {
  it("without a sandbox leaves the user switch to spawn and marks the process with its workload", () => {
    const s = workloadSpawn({ runAs: { uid: 1000, gid: 1000 }, sandbox: "none", root: "/w", hide: [] }, { argv: ["/usr/bin/java", "-jar", "s.jar"], cwd: "/w/srv", env: { A: "1" } });
    expect(s).toEqual({ file: "/usr/bin/java", args: ["-jar", "s.jar"], cwd: "/w/srv", env: { A: "1", [WORKLOAD_MARK_VARIABLE]: "/w" }, uid: 1000, gid: 1000 });
  });

  it("in bwrap hides the data directory and the agent's files, shows the own root, never dies with its parent", () => {
    const s = workloadSpawn(sandboxed("/d/workloads/w", "/d"), { argv: ["/bin/true"], cwd: "/d/workloads/w/srv", env: {} }, () => true);
    const args = s.args.join(" ");
    expect(args).toContain("--perms 0755 --tmpfs /d --perms 1777 --tmpfs /tmp --perms 0755 --tmpfs /d/workloads --ro-bind /d/workloads/w /d/workloads/w");
    expect(args).toContain("--tmpfs /d/workloads/w/etc/zlh --tmpfs /d/workloads/w/run --bind /d/workloads/w/srv /d/workloads/w/srv --bind /d/workloads/w/home/dev /d/workloads/w/home/dev");
    expect(args).toContain(`setpriv --reuid=${uid} --regid=${uid} --clear-groups`);
    expect(args).not.toContain("--die-with-parent");
    expect(args).not.toContain("--unshare-net");
    expect(s.uid).toBeUndefined();
  });
});

describe("a server launched as the workload (root + bwrap)", () => {
  it("runs as the allocated user and cannot read the controller's secrets, its agent's token or another workload", async () => {
    const { data, root } = dataDir();
    const attack = [
      "id -u; id -g",
      "cd $HOME",
      // The attack from issue 6: the data directory is three levels up from srv/.
      "sha256sum ../../../admin.token ../../../agent.secret ../../../tls.key 2>&1",
      `cat ${data}/admin.token ../etc/zlh/token ../../101-gameserver-default-other/srv/world.dat 2>&1`,
      "ls ../../ 2>&1",
      "echo saved > world.txt && echo wrote-own-srv",
      "echo x > /tmp/t && echo wrote-tmp",
      "echo x > ../escape 2>&1 || echo cannot-write-root",
      "echo pids $(ls /proc | grep -c '^[0-9]')",
      "hostname",
    ].join("; ");
    const p = plan(root, attack);
    const { process: proc } = new ProcessLauncher(realClock, sandboxed(root, data)).launch(p);
    groups.push(proc.pid);
    expect((await exitOf(proc)).code).toBe(0);
    const out = readFileSync(p.logFile, "utf8");
    expect(out.split("\n").slice(0, 2)).toEqual([String(uid), String(uid)]);
    expect(out).not.toContain("secret ");
    expect(out).not.toContain("agent token");
    expect(out).not.toContain("someone else's world");
    expect(out).toMatch(/admin\.token: No such file or directory/);
    // `ls ../../` (the workloads directory) shows its own root only.
    expect(out).toMatch(/\n100-gameserver-default-mc1\n/);
    expect(out).not.toMatch(/^101-gameserver-default-other$/m);
    expect(out).toContain("wrote-own-srv");
    expect(out).toContain("wrote-tmp");
    expect(out).toContain("cannot-write-root");
    expect(out).toMatch(/pids [1-9]\n/); // its own pid namespace: a handful, not the host's hundreds
    expect(out).toContain("mc1");
    expect(statSync(join(root, "srv/world.txt")).uid).toBe(uid);
    expect(statSync(join(root, "etc/zlh/token")).mode & 0o777).toBe(0o600);
  });

  it("gets the stop signal as usual and may finish its shutdown; bwrap waits for it", async () => {
    const { data, root } = dataDir();
    const p = plan(root, 'trap "echo stopping; sleep 0.5; echo saved; exit 7" TERM; echo up; while :; do sleep 0.1; done');
    const { process: proc } = new ProcessLauncher(realClock, sandboxed(root, data)).launch(p);
    groups.push(proc.pid);
    await waitFor("the server to be up", () => readFileSync(p.logFile, "utf8").includes("up"));
    proc.signalGroup("SIGTERM");
    expect((await exitOf(proc)).code).toBe(7);
    expect(readFileSync(p.logFile, "utf8")).toContain("saved");
  });

  it("takes every process of the sandbox with it, also one that left the process group", async () => {
    const { data, root } = dataDir();
    const p = plan(root, "setsid sleep 1000 & echo $! > $HOME/escaped.pid; sleep 1000");
    const { process: proc } = new ProcessLauncher(realClock, sandboxed(root, data)).launch(p);
    groups.push(proc.pid);
    await waitFor("the escaped child", () => {
      try {
        return readFileSync(join(root, "srv/escaped.pid"), "utf8").trim() !== "";
      } catch {
        return false;
      }
    });
    // The sandbox's init is bwrap's child; its pid namespace holds everything in the sandbox.
    const initNs = await waitFor("the sandbox's init", () => {
      const init = livePids().find((pid) => parentOf(pid) === proc.pid);
      return init === undefined ? undefined : readlinkSync(`/proc/${init}/ns/pid`);
    });
    const sleepers = await waitFor("both sleepers", () => {
      const found = livePids().filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8") === "sleep\u00001000\u0000" && readlinkSync(`/proc/${pid}/ns/pid`) === initNs;
        } catch {
          return false;
        }
      });
      return found.length === 2 ? found : undefined;
    });
    // One of them runs in a session (and process group) of its own: a group kill misses it.
    expect(sleepers.map((pid) => statField(pid, 5) === String(proc.pid)).sort()).toEqual([false, true]);
    proc.signalGroup("SIGKILL");
    await exitOf(proc);
    await waitFor("every sleeper to die", () => sleepers.every((pid) => !isAlive(pid)));
  });
});

function livePids(): number[] {
  return readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number).filter(isAlive);
}

/** Field `n` of /proc/<pid>/stat (4: parent, 5: process group). */
function statField(pid: number, n: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[n - 3];
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  const ppid = statField(pid, 4);
  return ppid === undefined ? undefined : Number(ppid);
}
