// Real etcd members for tests: Debian's etcd-server (/usr/bin/etcd), each with its own temp
// data dir, on a random 127.x.y.z address with ports the kernel picked free, so tests never
// collide with each other or with other servers on the host. Killed by stop().
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { freePort, randomLoopback } from "../servers/free-port.js";

export const ETCD_BINARY = process.env.ZLH_TEST_ETCD ?? "/usr/bin/etcd";

export interface EtcdMember {
  name: string;
  clientUrl: string;
  /** host:port, as `--etcd-endpoints` takes it. */
  endpoint: string;
  kill(): Promise<void>;
  /** Starts the member again on its data dir (after kill). */
  restart(): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  endpoints: string[];
  stop(): Promise<void>;
  /** Last lines etcd printed, for failure messages. */
  logs(): string;
}

async function waitHealthy(endpoint: string, proc: () => ChildProcess | undefined, logs: () => string): Promise<void> {
  const client = new Etcd3({ hosts: `http://${endpoint}`, dialTimeout: 1000 });
  try {
    for (let attempt = 0; attempt < 300; attempt++) {
      const p = proc();
      if (!p || p.exitCode !== null) throw new Error(`etcd exited during start:\n${logs()}`);
      try {
        await client.get("health").options({ deadline: Date.now() + 1000 }).exec();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`etcd at ${endpoint} did not become ready:\n${logs()}`);
  } finally {
    client.close();
  }
}

/** Starts `size` members forming one cluster (1 for a single-node etcd) and waits until each serves. */
export async function startEtcdCluster(size = 1): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), "zlh-etcd-"));
  const host = randomLoopback();
  const specs: { name: string; client: number; peer: number }[] = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `m${i}`, client: await freePort(host), peer: await freePort(host) });
  }
  const initialCluster = specs.map((s) => `${s.name}=http://${host}:${s.peer}`).join(",");
  const output: string[] = [];
  const procs = new Map<string, ChildProcess>();
  const launch = (s: (typeof specs)[number]): void => {
    const args = [
      `--name=${s.name}`,
      `--data-dir=${join(dir, s.name)}`,
      `--listen-client-urls=http://${host}:${s.client}`,
      `--advertise-client-urls=http://${host}:${s.client}`,
      `--listen-peer-urls=http://${host}:${s.peer}`,
      `--initial-advertise-peer-urls=http://${host}:${s.peer}`,
      `--initial-cluster=${initialCluster}`,
      "--initial-cluster-state=new",
      `--initial-cluster-token=zlh-test-${host}`,
      // Short elections: a lost member is noticed quickly, and tests of quorum loss stay short.
      "--heartbeat-interval=50",
      "--election-timeout=500",
      "--log-outputs=stderr",
      "--logger=zap",
    ];
    const p = spawn(ETCD_BINARY, args, { stdio: ["ignore", "ignore", "pipe"] });
    p.stderr!.on("data", (d: Buffer) => {
      output.push(d.toString());
      if (output.length > 200) output.splice(0, output.length - 200);
    });
    procs.set(s.name, p);
  };
  const logs = (): string => output.join("").split("\n").slice(-30).join("\n");
  const kill = async (name: string): Promise<void> => {
    const p = procs.get(name);
    procs.delete(name);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
  };
  for (const s of specs) launch(s);
  const members: EtcdMember[] = specs.map((s) => ({
    name: s.name,
    clientUrl: `http://${host}:${s.client}`,
    endpoint: `${host}:${s.client}`,
    kill: () => kill(s.name),
    restart: async () => {
      await kill(s.name);
      launch(s);
      await waitHealthy(`${host}:${s.client}`, () => procs.get(s.name), logs);
    },
  }));
  try {
    await Promise.all(members.map((m) => waitHealthy(m.endpoint, () => procs.get(m.name), logs)));
  } catch (e) {
    for (const s of specs) await kill(s.name);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    members,
    endpoints: members.map((m) => m.endpoint),
    logs,
    stop: async () => {
      for (const s of specs) await kill(s.name);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
