// Per-root loopback blocks: two zlh servers (or a test beside a running server) never hand
// the same address to workloads with the same vmid.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ADDRESS_BLOCK_FILE, blockOf, candidateBlocks } from "../../src/providers/workload/address-block.js";
import { LocalWorkloadProvider } from "../../src/providers/workload/local.js";
import { ipv4OfProcAddress, listeningAddresses, loopbackListeners } from "../../src/providers/workload/loopback-listeners.js";
import { workloadIp } from "../../src/providers/workload/workload-rules.js";
import { tempDir } from "./temp-dir.js";
import { waitFor } from "./wait-for.js";
import { alice, desired, mc1 } from "./workload-contract.js";

/** A provider whose "agent" exits at once: these tests are about addresses, not processes. */
function provider(root: string): LocalWorkloadProvider {
  const p = new LocalWorkloadProvider({ root, agentCommand: ["true"], stopGraceMs: 1_000 });
  onTestFinished(async () => {
    for (const w of await p.list().catch(() => [])) await p.delete(w.id);
  });
  return p;
}

function freshRoot(): string {
  const root = join(tempDir("blocks"), "workloads");
  mkdirSync(root);
  return root;
}

function record(root: string, block: number): void {
  writeFileSync(join(root, ADDRESS_BLOCK_FILE), JSON.stringify({ block }));
}

function recorded(root: string): number {
  return (JSON.parse(readFileSync(join(root, ADDRESS_BLOCK_FILE), "utf8")) as { block: number }).block;
}

/** A block for a test to squat on; which one does not matter, only that the root must leave it. */
function someBlock(): number {
  return 100 + Math.floor(Math.random() * 150);
}

async function listenTcp(host: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return server;
}

describe("loopback listeners from /proc/net", () => {
  it("decodes the kernel's host-order hex, plain and IPv4-mapped", () => {
    expect(ipv4OfProcAddress("0100007F")).toBe("127.0.0.1");
    expect(ipv4OfProcAddress("0000000000000000FFFF00000302017F")).toBe("127.1.2.3");
    expect(ipv4OfProcAddress("00000000000000000000000001000000")).toBeUndefined(); // ::1
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0",
      "   1: 0302017F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0",
    ].join("\n");
    expect(listeningAddresses(table, true)).toEqual(["127.0.0.1"]);
    expect(listeningAddresses(table, false)).toEqual(["127.0.0.1", "127.1.2.3"]);
  });

  it("sees real TCP, TCP6 (IPv4-mapped) and UDP sockets bound to loopback addresses", async () => {
    const b = someBlock();
    await listenTcp(`127.${b}.7.1`);
    await listenTcp(`::ffff:127.${b}.7.2`);
    const udp = createSocket("udp4");
    await new Promise<void>((r) => udp.bind(0, `127.${b}.7.3`, r));
    onTestFinished(() => {
      udp.close();
    });
    const seen = loopbackListeners();
    expect([1, 2, 3].map((n) => seen.has(`127.${b}.7.${n}`))).toEqual([true, true, true]);
  });
});

describe("per-root loopback address blocks", () => {
  it("gives the same vmid different addresses under two roots", async () => {
    const [a, b] = [freshRoot(), freshRoot()];
    const ipA = (await provider(a).create(desired(mc1, 100))).ip!;
    const ipB = (await provider(b).create(desired(mc1, 100))).ip!;
    expect(ipA).not.toBe(ipB);
    expect(ipA).toBe(workloadIp(100, recorded(a)));
    expect(ipB).toBe(workloadIp(100, recorded(b)));
  });

  it("never uses 127.0.0.0/16 or 127.255.0.0/16 and keeps vmid in the low two bytes", async () => {
    expect(workloadIp(300, 42)).toBe("127.42.1.44");
    expect(() => workloadIp(1, 0)).toThrow(/block 0/);
    expect(() => workloadIp(1, 255)).toThrow(/block 255/);
    const order = candidateBlocks("/some/root", undefined);
    expect(order).toHaveLength(254);
    expect(new Set(order).size).toBe(254);
    expect(Math.min(...order)).toBe(1);
    expect(Math.max(...order)).toBe(254);
    expect(candidateBlocks("/some/root", 9)[0]).toBe(9);
  });

  it("keeps a root on its recorded block, also for a second provider instance (a restarted server)", async () => {
    const root = freshRoot();
    const first = await provider(root).create(desired(mc1, 100));
    const block = recorded(root);
    expect(blockOf(first.ip!)).toBe(block);
    const second = await provider(root).create(desired(alice, 101));
    expect(second.ip).toBe(workloadIp(101, block));
  });

  it("moves a root off a block another root of this process holds", async () => {
    const [a, b] = [freshRoot(), freshRoot()];
    const block = someBlock();
    record(a, block);
    record(b, block);
    const ipA = (await provider(a).create(desired(mc1, 100))).ip!;
    const ipB = (await provider(b).create(desired(mc1, 100))).ip!;
    expect(blockOf(ipA)).not.toBe(blockOf(ipB));
    expect(recorded(b)).toBe(blockOf(ipB));
  });

  it("moves a root off a block another process has claimed", async () => {
    const root = freshRoot();
    const block = someBlock();
    record(root, block);
    const holder = spawn(process.execPath, ["-e", `require("net").createServer().listen({ path: "\\0zlh-loopback-block-127.${block}" }, () => console.log("held"))`], { stdio: ["ignore", "pipe", "inherit"] });
    onTestFinished(() => {
      holder.kill("SIGKILL");
    });
    let out = "";
    holder.stdout!.on("data", (d) => (out += String(d)));
    await waitFor("the other process to claim the block", () => out.includes("held"));
    const ip = (await provider(root).create(desired(mc1, 100))).ip!;
    expect(blockOf(ip)).not.toBe(block);
    expect(recorded(root)).toBe(blockOf(ip));
  });

  it("moves a root off its block when someone else serves the address a new workload would get", async () => {
    const root = freshRoot();
    const p = provider(root);
    const first = await p.create(desired(alice, 101));
    const block = recorded(root);
    await listenTcp(workloadIp(100, block));
    const ip = (await p.create(desired(mc1, 100))).ip!;
    expect(blockOf(ip)).not.toBe(block);
    expect(recorded(root)).toBe(blockOf(ip));
    // The workload already there keeps its address.
    expect((await p.observe([alice]))[0]?.ip).toBe(first.ip);
  });

  it("skips a recorded block in which someone else listens, before any address of it is taken", async () => {
    const root = freshRoot();
    const block = someBlock();
    record(root, block);
    await listenTcp(`127.${block}.200.200`);
    const ip = (await provider(root).create(desired(mc1, 100))).ip!;
    expect(blockOf(ip)).not.toBe(block);
  });
});
