// npm run bench: apply N resources to the embedded API server, with in-memory providers
// that add a fixed latency per call, and report how fast and how cheaply they converge.
// Prints figures and ratios; asserts nothing about time.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { startController } from "../controller/src/manager.js";
import { MemoryDnsProvider } from "../controller/src/providers/dns/memory.js";
import { withCallCounts, withLatency, type CallCounts } from "../controller/src/providers/instrumented.js";
import { MemoryRouteProvider } from "../controller/src/providers/routing/memory.js";
import { MemoryWorkloadProvider } from "../controller/src/providers/workload/memory.js";
import type { ZlhResource } from "../controller/src/plan/resource.js";
import { withSimulatedAgents } from "./simulated-agents.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000" },
    latency: { type: "string", default: "20" },
    workers: { type: "string", default: "16" },
    "apply-concurrency": { type: "string", default: "32" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const latencyMs = Number(values.latency);
const workers = Number(values.workers);
const applyConcurrency = Number(values["apply-concurrency"]);
const deadlineMs = 15 * 60_000;

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function startApi(dataDir: string): Promise<{ child: ChildProcess; kubeconfigPath: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "api-server-process.ts"), dataDir], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`API server exited with ${code}`)));
  });
  return { child, kubeconfigPath: (JSON.parse(line) as { kubeconfigPath: string }).kubeconfigPath };
}

function gameServer(i: number): ZlhResource {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name: `gs-${i}`, namespace: "bench" },
    spec: { game: "minecraft", command: ["srv"], ports: [{ name: "game", port: 25565 }] },
  };
}

async function until(what: string, check: () => boolean, progress: () => string): Promise<void> {
  const start = Date.now();
  let lastReport = start;
  while (!check()) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    if (Date.now() - lastReport > 2000) {
      log(`${what}: ${progress()}`);
      lastReport = Date.now();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sum = (cs: CallCounts[]) => cs.reduce((a, c) => ({ reads: a.reads + c.reads, writes: a.writes + c.writes }), { reads: 0, writes: 0 });

interface Result {
  n: number;
  seconds: number;
  perSecond: number;
  callsPerResource: number;
  writesPerResource: number;
  idealSeconds: number;
  resyncWrites: number;
  resyncReads: number;
  rssMiB: number;
}

async function run(n: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "zlh-bench-"));
  const { child, kubeconfigPath } = await startApi(dir);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    kc.setCurrentContext("zlh-http");
    const providers = {
      workload: withCallCounts(withLatency(withSimulatedAgents(new MemoryWorkloadProvider()), latencyMs)),
      dns: withCallCounts(withLatency(new MemoryDnsProvider(), latencyMs)),
      routing: withCallCounts(withLatency(new MemoryRouteProvider(), latencyMs)),
    };
    const counts = () => sum([providers.workload.counts(), providers.dns.counts(), providers.routing.counts()]);
    const controller = await startController({
      kubeConfig: kc,
      providers: { ...providers, dns: [{ provider: providers.dns, target: "edge" }] },
      settings: { zone: "bench.zlh.localhost", ttl: 60, httpEntryPoint: "websecure" },
      workers,
      vmids: { from: 100, to: 65535 },
      publicPorts: { from: 20000, to: 40000 },
      heartbeatSeconds: 3600,
      missedHeartbeats: 3,
      agentListen: "127.0.0.1:0",
      agentSecret: Buffer.alloc(32, 7),
      logger: pino({ level: "warn" }),
      gcIntervalMs: 3_600_000,
    });
    await controller.ready;
    const api = kc.makeApiClient(CustomObjectsApi);
    const cache = controller.informers.gameservers;
    const ready = () => cache.list().filter((o) => (o as unknown as ZlhResource).status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;

    const t0 = performance.now();
    let created = 0;
    await Promise.all(
      Array.from({ length: applyConcurrency }, async (_, w) => {
        for (let i = w; i < n; i += applyConcurrency) {
          await api.createNamespacedCustomObject({ group: "zerolaghub.dev", version: "v1alpha1", namespace: "bench", plural: "gameservers", body: gameServer(i) });
          created++;
        }
      }),
    );
    log(`${n}: applied ${created} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await until(`${n} resources Ready`, () => ready() === n, () => `${ready()}/${n} ready`);
    const seconds = (performance.now() - t0) / 1000;
    const converged = counts();

    // A full resync of the converged set: every key reconciled once more.
    for (const o of cache.list()) controller.queue.add(`gameservers/bench/${o.metadata!.name}`);
    let stableSince = Date.now();
    let last = counts().reads;
    await until("resync to settle", () => {
      const now = counts().reads;
      if (now !== last) {
        last = now;
        stableSince = Date.now();
      }
      return controller.queue.len() === 0 && Date.now() - stableSince > 1000;
    }, () => `${controller.queue.len()} queued`);
    const after = counts();
    const rssMiB = process.memoryUsage().rss / 2 ** 20;
    await controller.close();
    const calls = converged.reads + converged.writes;
    return {
      n,
      seconds,
      perSecond: n / seconds,
      callsPerResource: calls / n,
      writesPerResource: converged.writes / n,
      idealSeconds: (calls * latencyMs) / 1000 / workers,
      resyncWrites: after.writes - converged.writes,
      resyncReads: after.reads - converged.reads,
      rssMiB,
    };
  } finally {
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

log(`provider latency ${latencyMs} ms per call, ${workers} workers, sizes ${sizes.join(", ")}`);
const results: Result[] = [];
for (const n of sizes) {
  log(`${n}: starting`);
  results.push(await run(n));
}
const rows = [
  ["resources", "seconds to Ready", "resources/s", "provider calls/resource", "writes/resource", "ideal s (calls×latency÷workers)", "ratio to ideal", "resync writes", "resync reads/resource", "controller RSS MiB"],
  ...results.map((r) => [r.n, r.seconds.toFixed(2), r.perSecond.toFixed(1), r.callsPerResource.toFixed(2), r.writesPerResource.toFixed(2), r.idealSeconds.toFixed(2), (r.seconds / r.idealSeconds).toFixed(2), r.resyncWrites, (r.resyncReads / r.n).toFixed(2), r.rssMiB.toFixed(0)].map(String)),
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
for (const r of rows) console.log(r.map((c, i) => String(c).padStart(widths[i]!)).join("  "));
if (results.length > 1) {
  const [a, b] = [results[0]!, results[results.length - 1]!];
  console.log(`growth ${a.n} → ${b.n} (×${(b.n / a.n).toFixed(0)}): time ×${(b.seconds / a.seconds).toFixed(2)}, calls/resource ×${(b.callsPerResource / a.callsPerResource).toFixed(2)}, RSS ×${(b.rssMiB / a.rssMiB).toFixed(2)}`);
}
const bad = results.filter((r) => r.resyncWrites !== 0);
if (bad.length > 0) {
  console.log(`FAIL: a resync of the converged set made provider writes (${bad.map((r) => `${r.n}: ${r.resyncWrites}`).join(", ")})`);
  process.exitCode = 1;
}
process.exit();
