// How the local provider confines workloads (local-isolation.ts), delivers the controller
// URL, and tears a workload down completely (local-teardown.ts). The sandbox itself is
// tested in agent/test/workload-identity.test.ts and, end to end, in test/e2e/isolation.test.ts.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { decideIsolation, LocalIsolation } from "../../src/providers/workload/local-isolation.js";
import { LocalWorkloadProvider, MARKER_FILE, type WorkloadMarker } from "../../src/providers/workload/local.js";
import { readProcStat } from "../../src/providers/workload/proc-stat.js";
import { tempDir } from "./temp-dir.js";
import { waitFor } from "./wait-for.js";
import { alice, desired, mc1 } from "./workload-contract.js";

const STANDIN = fileURLToPath(new URL("./fixtures/agent-standin.mjs", import.meta.url));
const works = () => ({ ok: true, detail: "bwrap works" });
const broken = () => ({ ok: false, detail: "bwrap cannot run: ENOENT" });
const isRoot = process.getuid?.() === 0;

function provider(root: string, extra: Partial<ConstructorParameters<typeof LocalWorkloadProvider>[0]> = {}) {
  const p = new LocalWorkloadProvider({ root, agentCommand: [process.execPath, STANDIN], stopGraceMs: 5_000, probeSandbox: works, ...extra });
  onTestFinished(async () => {
    for (const w of await p.list().catch(() => [])) await p.delete(w.id).catch(() => undefined);
  });
  return p;
}

const alive = (pid: number) => {
  const s = readProcStat(pid);
  return s !== undefined && s.state !== "Z";
};

describe("the isolation decision", () => {
  it("gives root an own uid per workload in bwrap, and refuses root workloads without a sandbox unless told sandbox: none", () => {
    expect(decideIsolation("auto", true, works())).toMatchObject({ runAsUsers: true, sandbox: "bwrap" });
    expect(decideIsolation("auto", true, broken()).refusal).toContain("bwrap cannot run: ENOENT");
    expect(decideIsolation("bwrap", true, broken()).refusal).toContain("sandbox: none");
    expect(decideIsolation("none", true, works())).toMatchObject({ runAsUsers: false, sandbox: "none" });
    expect(decideIsolation("none", true, works()).refusal).toBeUndefined();
  });

  it("without root: the sandbox as the controller's user if bwrap works, unconfined with auto if not, refused with bwrap", () => {
    expect(decideIsolation("auto", false, works())).toMatchObject({ runAsUsers: false, sandbox: "bwrap" });
    expect(decideIsolation("auto", false, works()).refusal).toBeUndefined();
    expect(decideIsolation("auto", false, broken())).toMatchObject({ sandbox: "none" });
    expect(decideIsolation("auto", false, broken()).refusal).toBeUndefined();
    expect(decideIsolation("auto", false, broken()).summary).toContain("can read everything");
    expect(decideIsolation("bwrap", false, broken()).refusal).toBeDefined();
  });

  it("allocates uid = from + vmid, refuses one past the range and one an account of this host holds", () => {
    const iso = new LocalIsolation({ uids: { from: 300_000, to: 300_200 } }, undefined, works, true);
    expect(iso.confinementOf(150)).toEqual({ runAs: { uid: 300_150, gid: 300_150 }, sandbox: "bwrap" });
    expect(() => iso.confinementOf(201)).toThrow(/uid 300201, beyond providers.workload.uids.to \(300200\)/);
    // uid 0 is root in every /etc/passwd.
    const clash = new LocalIsolation({ uids: { from: 0, to: 10 } }, undefined, works, true);
    expect(() => clash.confinementOf(0)).toThrow(expect.objectContaining({ reason: "Conflict" }));
  });

  it("tells the agent its user, sandbox and what to hide", () => {
    const iso = new LocalIsolation({ hide: ["/var/lib/zlh"] }, undefined, works, true);
    expect(iso.environment(iso.confinementOf(100))).toEqual({ ZLH_RUN_AS: "200100:200100", ZLH_SANDBOX: "bwrap", ZLH_SANDBOX_HIDE: "/var/lib/zlh" });
  });
});

describe("LocalWorkloadProvider confinement and controller URL", () => {
  it("refuses to create a workload it cannot confine as asked, leaving nothing behind", async () => {
    const root = tempDir("workloads");
    const p = provider(root, { isolation: { sandbox: "bwrap" }, probeSandbox: broken });
    await expect(p.create(desired(mc1, 100))).rejects.toMatchObject({ reason: "Unavailable", message: expect.stringContaining("bwrap cannot run") });
    expect(readdirSync(root).filter((n) => !n.startsWith("."))).toEqual([]);
  });

  it("records the workload's user in the marker when the controller is root", async () => {
    const root = tempDir("workloads");
    const w = await provider(root).create(desired(mc1, 100));
    const marker = JSON.parse(readFileSync(join(root, w.id, MARKER_FILE), "utf8")) as WorkloadMarker;
    expect(marker.runAs).toEqual(isRoot ? { uid: 200_100, gid: 200_100 } : undefined);
  });

  it("rewrites the controller URL file and the token on update(), for the running agent to re-read", async () => {
    const root = tempDir("workloads");
    const p = provider(root);
    const w = await p.create(desired(mc1, 100));
    const moved = { ...desired(mc1, 100), agent: { controllerUrl: "http://127.0.0.1:9555", token: "rotated-token" } };
    await p.update(w.id, moved);
    expect(readFileSync(join(root, w.id, "etc/zlh/controller-url"), "utf8")).toBe("http://127.0.0.1:9555\n");
    expect(readFileSync(join(root, w.id, "etc/zlh/token"), "utf8")).toBe("rotated-token");
    expect((JSON.parse(readFileSync(join(root, w.id, MARKER_FILE), "utf8")) as WorkloadMarker).controllerUrl).toBe("http://127.0.0.1:9555");
  });
});

describe("deleting a local workload", () => {
  it("stops a workload process that left every group and pidfile (it carries ZLH_WORKLOAD_ROOT)", async () => {
    const root = tempDir("workloads");
    const p = provider(root);
    const w = await p.create(desired(alice, 101));
    const dir = join(root, w.id);
    // What a double-forked daemon of the server looks like: own session, no pidfile.
    const escaped = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, ZLH_WORKLOAD_ROOT: dir },
    });
    escaped.unref();
    onTestFinished(() => {
      if (alive(escaped.pid!)) process.kill(escaped.pid!, "SIGKILL");
    });
    await waitFor("the escaped process", () => readProcStat(escaped.pid!) !== undefined);

    await p.delete(w.id);
    await waitFor("the escaped process to die", () => !alive(escaped.pid!));
    expect(existsSync(dir)).toBe(false);
  });

  it("keeps the marker (and so the workload) when part of its directory cannot be removed, and finishes on retry", async () => {
    const root = tempDir("workloads");
    const p = provider(root);
    const w = await p.create(desired(mc1, 100));
    const dir = join(root, w.id);
    const stuck = join(dir, "srv", "stuck");
    mkdirSync(stuck, { recursive: true });
    let release: () => void;
    if (isRoot) {
      // Root may remove anything; a mount point it may not (EBUSY).
      expect(spawnSync("mount", ["-t", "tmpfs", "zlh-test", stuck]).status).toBe(0);
      release = () => void spawnSync("umount", [stuck]);
    } else {
      writeFileSync(join(stuck, "file"), "x");
      chmodSync(stuck, 0o500);
      release = () => chmodSync(stuck, 0o700);
    }
    onTestFinished(() => release());

    await expect(p.delete(w.id)).rejects.toMatchObject({ message: expect.stringContaining("cannot remove workload directory") });
    expect(existsSync(join(dir, MARKER_FILE))).toBe(true);
    expect((await p.list()).map((x) => x.id)).toEqual([w.id]);

    release();
    await p.delete(w.id);
    expect(existsSync(dir)).toBe(false);
    expect(await p.list()).toEqual([]);
  });
});
