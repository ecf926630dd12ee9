// The LXC workload provider against real LXC on this host (root; CI installs lxc and
// debootstrap). The first run builds the cached base image (a few minutes); after that the
// file runs in well under a minute.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { agentBundlePath } from "../../src/project-paths.js";
import { LxcWorkloadProvider } from "../../src/providers/workload/lxc.js";
import { assertLxcUsable, lxcTestBed, readInContainer, STANDIN, TEST_ROOTFS, testRootfs, type LxcTestBed } from "./lxc-harness.js";
import { tempDir } from "./temp-dir.js";
import { waitFor } from "./wait-for.js";
import { alice, desired, mc1, workloadProviderContract } from "./workload-contract.js";

beforeAll(async () => {
  assertLxcUsable();
  await testRootfs();
}, 15 * 60_000);

/** What the stand-in agent wrote about itself at / inside the container. */
async function agentInfo(bed: LxcTestBed, id: string): Promise<{ pid: number; env: Record<string, string> }> {
  return waitFor(`the agent in ${id} to report`, () => {
    const text = readInContainer(bed, id, "agent-info.json");
    return text ? (JSON.parse(text) as { pid: number; env: Record<string, string> }) : undefined;
  });
}

function bed(): LxcTestBed {
  const b = lxcTestBed();
  onTestFinished(() => b.cleanup());
  return b;
}

workloadProviderContract("LxcWorkloadProvider (real LXC)", async () => {
  const b = lxcTestBed();
  return {
    provider: b.provider,
    crashAgent: async (id) => {
      await agentInfo(b, id);
      const s = (await b.cli.list()).find((c) => c.name === id)!;
      process.kill(s.pid!, "SIGKILL"); // the agent is the container's PID 1: the container stops
      await waitForAsync(`${id} to stop`, async () => !(await b.cli.list()).find((c) => c.name === id)?.running);
      // The next agent writes its own report: drop the old one from the (unmounted) upper layer.
      rmSync(join(b.provider.writableRoot(id), "agent-info.json"));
    },
    agentStarts: async (id) => {
      await agentInfo(b, id);
      return readInContainer(b, id, "agent-starts.log").trim().split("\n").length;
    },
    expectedIp: async (vmid) => b.ipOf(vmid),
    addForeign: async () => {
      // A container of someone else in the same lxcpath, and an unmarked one with our naming.
      const foreign = join(b.lxcpath, "foreign-web");
      mkdirSync(join(foreign, "rootfs"), { recursive: true });
      writeFileSync(join(b.lxcpath, ".conf"), `lxc.uts.name = web\nlxc.rootfs.path = dir:${join(foreign, "rootfs")}\n`);
      execFileSync("lxc-create", ["-P", b.lxcpath, "-n", "foreign-web", "-t", "none", "-f", join(b.lxcpath, ".conf")]);
      const unmarked = join(b.lxcpath, "100-gameserver-default-unmarked");
      mkdirSync(unmarked);
      writeFileSync(join(unmarked, "config"), "lxc.uts.name = x\n");
      const before = readFileSync(join(foreign, "config"), "utf8");
      return () => readFileSync(join(foreign, "config"), "utf8") === before && existsSync(join(unmarked, "config"));
    },
    breakBackend: async () => {
      execFileSync("rm", ["-rf", b.lxcpath]);
      writeFileSync(b.lxcpath, "not a directory");
      return b.lxcpath;
    },
    cleanup: async () => {
      for (const w of await b.provider.list().catch(() => [])) await b.provider.delete(w.id);
      await b.cleanup();
    },
  };
});

describe("LxcWorkloadProvider on real LXC", () => {
  it("gives the agent its token (0600) but not the controller's data directory, and the host reaches the container", async () => {
    const b = bed();
    const dataDir = tempDir("controller-data");
    writeFileSync(join(dataDir, "admin.token"), "controller-secret");
    const w = await b.provider.create(desired(mc1, 120));
    expect(w).toMatchObject({ running: true, ip: b.ipOf(120) });
    const info = await agentInfo(b, w.id);
    expect(info.pid).toBe(1);
    expect(info.env).toMatchObject({ ZLH_TOKEN_FILE: "/etc/zlh/token", ZLH_IP: b.ipOf(120), ZLH_RESOURCE: "gameservers/default/mc1", ZLH_VMID: "120" });
    expect(JSON.stringify(info.env)).not.toContain("token-for-mc1");
    const node = "/opt/zlh/bin/node";
    const read = await b.provider.exec(w.id, [node, "-e", `const fs=require("fs");const s=fs.statSync("/etc/zlh/token");console.log(JSON.stringify({t:fs.readFileSync("/etc/zlh/token","utf8"),mode:(s.mode&0o777).toString(8),data:fs.existsSync(${JSON.stringify(dataDir)}),work:fs.existsSync(${JSON.stringify(b.lxcpath)}),host:require("os").hostname()}))`]);
    expect(JSON.parse(read.stdout)).toEqual({ t: "token-for-mc1", mode: "600", data: false, work: false, host: "mc1" });
    // A server inside on the container's own address answers the host over the veth.
    const server = b.provider.exec(w.id, [node, "-e", `require("net").createServer(s=>s.end("pong",()=>process.exit(0))).listen(7001,${JSON.stringify(b.ipOf(120))});setTimeout(()=>process.exit(0),8000)`]);
    const reply = await waitForReply(b.ipOf(120), 7001);
    expect(reply).toBe("pong");
    await server;
  });

  it("runs the real bundled agent as PID 1 with the host's Node", async () => {
    const b = lxcTestBed({ agentBundle: agentBundlePath() });
    onTestFinished(() => b.cleanup());
    const w = await b.provider.create(desired(mc1, 126));
    expect(w.running).toBe(true);
    const log = join(b.lxcpath, w.id, "console.log");
    // The controller URL is not reachable from inside here: the agent starts, says so, retries.
    const line = await waitFor("the agent's start line", () => {
      const text = existsSync(log) ? readFileSync(log, "utf8") : "";
      return text.split("\n").find((l) => l.includes('"agent starting"'));
    }, 20_000);
    expect(JSON.parse(line.slice(line.indexOf("{")))).toMatchObject({ resource: "gameservers/default/mc1", ip: b.ipOf(126), vmid: 126, hostname: "mc1" });
    expect(readFileSync(log, "utf8")).not.toContain("token-for-mc1");
    expect((await b.provider.observe([mc1]))[0]?.running).toBe(true);
  });

  it("sets memory and CPU limits through the container's cgroup, and changes them in place", async () => {
    const b = bed();
    const w = await b.provider.create({ ...desired(mc1, 121), resources: { cpu: 1.5, memoryMiB: 512, diskGiB: 5 } });
    const v1 = !existsSync("/sys/fs/cgroup/cgroup.controllers");
    const mem = v1 ? "memory.limit_in_bytes" : "memory.max";
    const cgroup = (key: string) => execFileSync("lxc-cgroup", ["-P", b.lxcpath, "-n", w.id, key], { encoding: "utf8" }).trim();
    expect(cgroup(mem)).toBe(String(512 * 1024 * 1024));
    expect(v1 ? cgroup("cpu.cfs_quota_us") : cgroup("cpu.max")).toBe(v1 ? "150000" : "150000 100000");
    await b.provider.update(w.id, { ...desired(mc1, 121), resources: { cpu: 1, memoryMiB: 768, diskGiB: 5 } });
    expect(cgroup(mem)).toBe(String(768 * 1024 * 1024));
    expect((await b.provider.observe([mc1]))[0]?.resources).toEqual({ cpu: 1, memoryMiB: 768, diskGiB: 5 });
  });

  it("adopts a container after a controller crash instead of making a second one", async () => {
    const b = bed();
    const created = await b.provider.create(desired(mc1, 122));
    await agentInfo(b, created.id);
    // A new controller process: a fresh provider on the same lxcpath, nothing in memory.
    const next = new LxcWorkloadProvider({ ...optionsOf(b), agentBundle: STANDIN });
    const found = await next.observe([mc1, alice]);
    expect(found).toEqual([created]);
    await expect(next.create(desired(mc1, 122))).rejects.toMatchObject({ reason: "Conflict" });
    expect((await b.cli.list()).map((s) => s.name)).toEqual([created.id]);
    expect(readInContainer(b, created.id, "agent-starts.log").trim().split("\n")).toHaveLength(1);
  });

  it("clears the unmarked leftover of a create that crashed before its config was marked", async () => {
    const b = bed();
    const w = await b.provider.create(desired(mc1, 123));
    await b.provider.delete(w.id);
    // What a crash right after lxc-create leaves: our name, a config without the owner mark.
    const dir = join(b.lxcpath, w.id);
    mkdirSync(join(dir, "upper"), { recursive: true });
    writeFileSync(join(b.lxcpath, ".c"), `lxc.uts.name = mc1\nlxc.rootfs.path = dir:${join(dir, "upper")}\n`);
    execFileSync("lxc-create", ["-P", b.lxcpath, "-n", w.id, "-t", "none", "-f", join(b.lxcpath, ".c")]);
    expect(await b.provider.observe([mc1])).toEqual([]);
    const again = await b.provider.create(desired(mc1, 123));
    expect(again).toMatchObject({ id: w.id, running: true });
    expect((await b.cli.list()).map((s) => s.name)).toEqual([w.id]);
  });

  it("deletes without a trace: no container, no directory, no veth, the cached image intact", async () => {
    const b = bed();
    const w = await b.provider.create(desired(alice, 124));
    const iface = readFileSync(join(b.lxcpath, w.id, "config"), "utf8").match(/^lxc\.net\.0\.veth\.pair = (\S+)$/m)![1]!;
    expect(execFileSync("ip", ["-o", "link", "show", iface], { encoding: "utf8" })).toContain(iface);
    const imageEntries = readdirSync(join(TEST_ROOTFS.cacheDir, "bookworm-minbase")).sort();
    await b.provider.delete(w.id);
    expect(execFileSync("lxc-ls", ["-P", b.lxcpath], { encoding: "utf8" }).trim()).toBe("");
    expect(readdirSync(b.lxcpath)).toEqual([]);
    expect(() => execFileSync("ip", ["-o", "link", "show", iface], { stdio: "pipe" })).toThrow();
    expect(readdirSync(join(TEST_ROOTFS.cacheDir, "bookworm-minbase")).sort()).toEqual(imageEntries);
    await b.provider.delete(w.id); // idempotent
  });

  it("copies the image per container when storage is copy", async () => {
    const b = lxcTestBed({ storage: "copy" });
    onTestFinished(() => b.cleanup());
    const w = await b.provider.create(desired(mc1, 125));
    expect(w.running).toBe(true);
    expect(existsSync(join(b.lxcpath, w.id, "rootfs", "usr", "bin", "env"))).toBe(true);
    await b.provider.delete(w.id);
    expect(readdirSync(b.lxcpath)).toEqual([]);
  });
});

function optionsOf(b: LxcTestBed) {
  return {
    lxcpath: b.lxcpath,
    rootfs: TEST_ROOTFS,
    storage: "overlay" as const,
    network: { mode: "routed" as const, subnet: b.subnet, gateway: b.ipOf(1) },
    nodeBinary: process.execPath,
    node: "test-node",
    stopTimeoutSeconds: 2,
  };
}

async function waitForAsync(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Connects until the server inside is up; returns what it sent. */
async function waitForReply(host: string, port: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const s = connect(port, host);
        let data = "";
        s.on("data", (d) => (data += String(d)));
        s.on("end", () => resolve(data));
        s.on("error", reject);
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
