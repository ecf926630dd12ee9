// The controller is killed with SIGKILL in the middle of provisioning and started again on
// the same data directory: every resource ends up with exactly one workload (one agent, one
// server), one set of DNS records and one route.
import { describe, it, expect, afterAll } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { client, echoServer, eventually, killAllUnder, processesUnder, workloadDirs } from "./support.js";

const repo = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "zlh-crash-"));
const data = join(dir, ".zlh");
const config = join(dir, "config.yaml");
// One worker, so the kill lands with some resources provisioned and others not yet.
// Its own vmids: other end-to-end tests may run at the same time.
writeFileSync(config, "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nworkers: 1\nvmids: { from: 2000, to: 2099 }\nagent:\n  heartbeatSeconds: 1\n");
const servers: ChildProcess[] = [];

function startServer(): ChildProcess {
  rmSync(join(data, "server.json"), { force: true });
  const child = spawn(process.execPath, [join(repo, "bin/zlh.mjs"), "server", "--data-dir", data, "--listen", "127.0.0.1:0", "--config", config], { stdio: ["ignore", openSync(join(dir, `server-${servers.length}.log`), "w"), "inherit"] });
  servers.push(child);
  return child;
}

afterAll(() => {
  for (const s of servers) s.kill("SIGKILL");
  killAllUnder(dir);
  if (!process.env.ZLH_KEEP) rmSync(dir, { recursive: true, force: true });
});

describe("a controller killed mid-provisioning", () => {
  it("converges after restart with exactly one workload, one set of records and one route per resource", async () => {
    const first = startServer();
    await eventually("server.json", () => existsSync(join(data, "server.json")));
    const names = ["a", "b", "c", "d", "e", "f"];
    const api = client(join(data, "kubeconfig"));
    for (const n of names) await api.create(echoServer(n));

    await eventually("a first workload", () => workloadDirs(data).length > 0, 60_000);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const provisionedAtKill = workloadDirs(data).length;
    expect(provisionedAtKill).toBeLessThan(names.length);

    startServer();
    await eventually("server.json after restart", () => existsSync(join(data, "server.json")));
    const after = client(join(data, "kubeconfig"));
    await eventually("all Running", async () => {
      const all = await after.list("gameservers");
      return all.length === names.length && all.every((o) => o.status?.phase === "Running") ? all : undefined;
    }, 120_000);

    const workloads = workloadDirs(data);
    expect(workloads).toHaveLength(names.length);
    expect(new Set(workloads.map((w) => w.split("-").slice(3).join("-")))).toEqual(new Set(names));
    const procs = processesUnder(dir);
    expect(procs.filter((p) => p.agent)).toHaveLength(names.length);
    expect(procs.filter((p) => !p.agent && !p.sandbox)).toHaveLength(names.length);
    expect(readdirSync(join(data, "traefik")).sort()).toEqual(names.map((n) => `zlh-gameserver_default_${n}.yaml`));
    const zone = readFileSync(join(data, "dns/records.zone"), "utf8");
    for (const n of names) {
      expect(zone.match(new RegExp(`^${n}\\.zlh\\.localhost\\. .* IN A `, "gm")), n).toHaveLength(1);
      expect(zone.match(new RegExp(`^_minecraft\\._tcp\\.${n}\\.zlh\\.localhost\\. .* IN SRV `, "gm")), n).toHaveLength(1);
    }
  }, 240_000);
});
