// `npm run chaos`: a real `zlh server` with its local providers (workload processes, records
// file, Traefik files) is killed with SIGKILL at seeded points while resources are created,
// updated and deleted, and started again on the same data directory. At the end every
// provider's state is compared with what was declared.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killServer, startServer, type ServerHandle } from "./chaos-server.js";
import { planChaos, type Op } from "./chaos-plan.js";
import { readProviderState, type ProviderState } from "./chaos-state.js";
import { gsPath } from "./fuzz-cases.js";
import { rawRequest } from "./raw-http.js";
import { Rng } from "./rng.js";

export interface ChaosOptions {
  kills: number;
  creates: number;
  updates: number;
  deletes: number;
  maxLive: number;
  seed: number;
  /** How long convergence may take after the last operation (default 120 s + 2 s per live resource). */
  boundSeconds?: number;
  keep?: boolean;
  log?: (msg: string) => void;
}

export interface ChaosFigures {
  kills: number;
  operations: number;
  declared: number;
  orphans: number;
  duplicates: number;
  notConverged: number;
  lostUpdates: number;
  findings: string[];
}

const ZONE = "zlh.localhost";
// The smallest server that passes the default TCP readiness probe (node is on every machine zlh runs on).
const LISTENER = "require('net').createServer((s) => s.end()).listen(Number(process.argv[1]), process.argv[2])";
let ctr = 0;

function gameServer(name: string, gen: number): object {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name, namespace: "default" },
    spec: { game: "generic", command: ["node", "-e", LISTENER, "$(PORT_GAME)", "$(HOST)"], env: { GEN: String(gen) }, ports: [{ name: "game", port: 7000 }], shutdown: { graceSeconds: 1 } },
  };
}

class Runner {
  server!: ServerHandle;
  private restarting: Promise<void> = Promise.resolve();
  kills = 0;
  constructor(readonly dir: string, private readonly log: (m: string) => void) {}

  async start(): Promise<void> {
    this.server = await startServer(this.dir, ctr++);
  }

  /** SIGKILL and start again; operations wait for the new server. */
  kill(): Promise<void> {
    this.restarting = this.restarting.then(async () => {
      await killServer(this.server);
      this.kills++;
      this.server = await startServer(this.dir, ctr++);
    });
    return this.restarting;
  }

  /** Sends until some server answers: a request cut by a kill is sent again (every op is idempotent). */
  async request(method: string, path: string, body?: object, contentType?: string): Promise<{ status: number; text: string }> {
    for (let attempt = 0; ; attempt++) {
      await this.restarting;
      const s = this.server;
      const r = await rawRequest(s.url, s.token, method, path, body === undefined ? undefined : JSON.stringify(body), contentType, 30_000);
      if (r.status !== 0 && r.status < 500) return r;
      if (attempt > 600) throw new Error(`${method} ${path}: no answer (${r.status} ${r.error ?? r.text.slice(0, 200)})`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async apply(op: Op): Promise<void> {
    const r = op.op === "create" ? await this.request("POST", gsPath(), gameServer(op.name, op.gen))
      : op.op === "update" ? await this.request("PATCH", gsPath("default", op.name), { spec: { env: { GEN: String(op.gen) } } }, "application/merge-patch+json")
      : await this.request("DELETE", gsPath("default", op.name));
    const fine = op.op === "create" ? [201, 409] : op.op === "update" ? [200] : [200, 202, 404];
    if (!fine.includes(r.status)) throw new Error(`${op.op} ${op.name}: ${r.status} ${r.text.slice(0, 300)}`);
  }
}

interface Listed { metadata: { name: string; generation?: number; deletionTimestamp?: string }; status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] } }

function judge(declared: Map<string, number>, items: Listed[], p: ProviderState): Omit<ChaosFigures, "kills" | "operations" | "declared"> {
  const findings: string[] = [];
  let orphans = 0, duplicates = 0, notConverged = 0, lostUpdates = 0;
  const byName = new Map(items.map((o) => [o.metadata.name, o]));
  const maps: [string, Map<string, number>][] = [["workload", p.workloads], ["agent", p.agents], ["route", p.routes], ["A record", p.records]];
  for (const [what, m] of maps) {
    for (const [name, n] of m) {
      if (!declared.has(name)) (orphans++, findings.push(`orphan ${what} of ${name} (${n})`));
      else if (n > 1) (duplicates++, findings.push(`${n} ${what}s for ${name}`));
    }
  }
  for (const [name, servers] of p.servers) {
    if (!declared.has(name)) (orphans++, findings.push(`orphan server process of ${name}`));
    else if (servers.length > 1) (duplicates++, findings.push(`${servers.length} server processes for ${name}`));
  }
  for (const o of items) if (!declared.has(o.metadata.name)) (notConverged++, findings.push(`${o.metadata.name} was deleted but is still in the API`));
  for (const [name, gen] of declared) {
    const o = byName.get(name);
    const ready = o?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const missing = maps.filter(([, m]) => !m.has(name)).map(([w]) => w);
    if (!o || !ready || missing.length > 0) (notConverged++, findings.push(`${name} not converged: ${!o ? "gone from the API" : !ready ? "not Ready" : `no ${missing.join(", ")}`}`));
    const running = p.servers.get(name) ?? [];
    if (o && (o.status?.observedGeneration !== o.metadata.generation || !running.includes(String(gen)))) {
      lostUpdates++;
      findings.push(`${name}: declared GEN=${gen}, generation ${o.metadata.generation}, observed ${o.status?.observedGeneration}, running ${running.join(",") || "nothing"}`);
    }
  }
  return { orphans, duplicates, notConverged, lostUpdates, findings };
}

async function settle(r: Runner, declared: Map<string, number>, boundMs: number, log: (m: string) => void): Promise<ReturnType<typeof judge>> {
  const deadline = Date.now() + boundMs;
  for (let last = 0; ; ) {
    const list = await r.request("GET", gsPath());
    const verdict = judge(declared, (JSON.parse(list.text) as { items: Listed[] }).items, readProviderState(join(r.dir, "data"), ZONE));
    const bad = verdict.orphans + verdict.duplicates + verdict.notConverged + verdict.lostUpdates;
    if (bad === 0 || Date.now() > deadline) return verdict;
    if (Date.now() - last > 10_000) (log(`settling: ${verdict.findings.length} differences, e.g. ${verdict.findings[0]}`), (last = Date.now()));
    await new Promise((res) => setTimeout(res, 500));
  }
}

export async function runChaos(o: ChaosOptions): Promise<ChaosFigures> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "zlh-chaos-"));
  // Its own vmid range and two workers: resources are in flight together when the kill lands.
  writeFileSync(join(dir, "config.yaml"), "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nworkers: 2\nvmids: { from: 5000, to: 5999 }\nagent:\n  heartbeatSeconds: 1\n");
  const plan = planChaos(new Rng(o.seed), o);
  const r = new Runner(dir, log);
  try {
    await r.start();
    const pendingKills: Promise<void>[] = [];
    for (const [i, op] of plan.ops.entries()) {
      await r.apply(op);
      for (const delay of plan.kills.get(i) ?? []) pendingKills.push(new Promise((res) => setTimeout(res, delay)).then(() => r.kill()));
      if ((i + 1) % 20 === 0) log(`${i + 1}/${plan.ops.length} operations, ${r.kills} kills`);
    }
    await Promise.all(pendingKills);
    log(`all ${plan.ops.length} operations sent, ${r.kills} kills; waiting for convergence`);
    const verdict = await settle(r, plan.declared, (o.boundSeconds ?? 120 + 2 * plan.declared.size) * 1000, log);
    return { kills: r.kills, operations: plan.ops.length, declared: plan.declared.size, ...verdict, findings: verdict.findings.slice(0, 20) };
  } finally {
    // Delete everything through the server so no agent outlives the run, then stop it.
    await cleanUp(r, dir, o.keep ?? false);
  }
}

async function cleanUp(r: Runner, dir: string, keep: boolean): Promise<void> {
  try {
    const list = JSON.parse((await r.request("GET", gsPath())).text) as { items: Listed[] };
    for (const it of list.items) await r.request("DELETE", gsPath("default", it.metadata.name));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && readProviderState(join(dir, "data"), ZONE).agents.size > 0) await new Promise((res) => setTimeout(res, 250));
  } catch {
    // the kill below still runs
  }
  if (r.server) await killServer(r.server);
  // Anything left (an agent the server could not stop) goes with its process group.
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "utf8");
      if (env.includes(`ZLH_ROOT=${dir}`)) process.kill(Number(entry), "SIGKILL");
    } catch {
      // gone
    }
  }
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
