// Shared pieces of the end-to-end tests: waiting on real state, and finding the agent
// processes a data directory started (by their ZLH_ROOT), so a test can count them and
// never leaves one behind.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { ZlhResource } from "../../controller/src/plan/resource.js";

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Live processes of workloads under `dir`: agents (ZLH_ROOT in their environment), the
 * bubblewrap sandboxes around their servers (bwrap and the sandbox's init, see
 * agent/src/workload-identity.ts) and the servers (working directory inside a workload).
 */
export function processesUnder(dir: string): { pid: number; agent: boolean; sandbox: boolean }[] {
  const out: { pid: number; agent: boolean; sandbox: boolean }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const root = env.find((e) => e.startsWith("ZLH_ROOT="))?.slice(9);
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (!(root ?? cwd).startsWith(dir)) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      out.push({ pid: Number(entry), agent: cmd.includes("zlh-agent.mjs"), sandbox: cmd.startsWith("bwrap\0") });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** The workload directories under a data directory (not the root's own dot files, such as its address block). */
export function workloadDirs(dataDir: string): string[] {
  return existsSync(join(dataDir, "workloads")) ? readdirSync(join(dataDir, "workloads")).filter((n) => !n.startsWith(".")).sort() : [];
}

export function killAllUnder(dir: string): void {
  for (const p of processesUnder(dir)) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export function client(kubeconfigPath: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(CustomObjectsApi);
  const g = { group: "zerolaghub.dev", version: "v1alpha1" };
  return {
    async list(plural: "gameservers" | "devenvironments", namespace = "default"): Promise<ZlhResource[]> {
      return ((await api.listNamespacedCustomObject({ ...g, plural, namespace })) as { items: ZlhResource[] }).items;
    },
    async create(obj: ZlhResource): Promise<void> {
      const plural = obj.kind === "GameServer" ? "gameservers" : "devenvironments";
      await api.createNamespacedCustomObject({ ...g, plural, namespace: obj.metadata.namespace ?? "default", body: obj });
    },
  };
}

export function echoServer(name: string, port = 7777): ZlhResource {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name, namespace: "default" },
    spec: {
      game: "minecraft",
      command: ["node", "-e", "require('net').createServer((s) => s.end('hi\\n')).listen(Number(process.argv[1]), process.argv[2])", "$(PORT_GAME)", "$(HOST)"],
      ports: [{ name: "game", port }],
      shutdown: { graceSeconds: 2 },
    },
  };
}
