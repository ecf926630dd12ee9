// The controller against the real embedded API server through client-node, with in-memory
// providers: heartbeat supervision and leader election, on the real clock, waiting on events.
import { describe, it, expect, afterEach } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoordinationV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, V1MicroTime } from "@kubernetes/client-node";
import { pino } from "pino";
import { startApiServer, type RunningApiServer } from "../../controller/src/api/server.js";
import { startController, type RunningController } from "../../controller/src/manager.js";
import { MemoryDnsProvider } from "../../controller/src/providers/dns/memory.js";
import { MemoryRouteProvider } from "../../controller/src/providers/routing/memory.js";
import { MemoryWorkloadProvider } from "../../controller/src/providers/workload/memory.js";
import type { ZlhResource } from "../../controller/src/plan/resource.js";
import { ApiError, apiResourceWriter, type ResourceWriter } from "../../controller/src/resources/api-client.js";
import { client, echoServer, eventually } from "./support.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function api(): Promise<{ server: RunningApiServer; kc: KubeConfig }> {
  const dir = mkdtempSync(join(tmpdir(), "zlh-ctl-"));
  const server = await startApiServer({ dataDir: dir, listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => server.close());
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  kc.setCurrentContext("zlh-http");
  return { server, kc };
}

function twins() {
  return { workload: new MemoryWorkloadProvider(), dns: new MemoryDnsProvider(), routing: new MemoryRouteProvider() };
}

async function controller(kc: KubeConfig, identity: string, world = twins(), extra: Partial<Parameters<typeof startController>[0]> = {}) {
  const { workload } = world;
  const c = await startController({
    kubeConfig: kc,
    providers: { workload, dns: [{ provider: world.dns, target: "edge" }], routing: world.routing },
    settings: { zone: "zlh.localhost", ttl: 60, httpEntryPoint: "websecure" },
    workers: 2,
    vmids: { from: 100, to: 199 },
    publicPorts: { from: 30000, to: 30099 },
    heartbeatSeconds: 1,
    missedHeartbeats: 2,
    agentListen: "127.0.0.1:0",
    agentSecret: Buffer.alloc(32, 1),
    logger: pino({ level: "silent" }),
    identity,
    lease: { namespace: "default", name: "zlh-controller", durationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 },
    ...extra,
  });
  let closed = false;
  const close = async () => {
    if (!closed) await c.close();
    closed = true;
  };
  cleanups.push(close);
  return { c, workload, close };
}

async function report(c: RunningController, token: string, name: string): Promise<void> {
  const res = await fetch(`${c.agentUrl}/agent/v1/gameservers/default/${name}/report`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ state: "running", pid: 4242, restarts: 0, provisioningComplete: true, version: "test", time: new Date().toISOString() }),
  });
  expect(res.status).toBe(200);
}

const statusOf = async (kubeconfigPath: string, name: string): Promise<ZlhResource["status"]> =>
  (await client(kubeconfigPath).list("gameservers")).find((o) => o.metadata.name === name)?.status;

describe("the controller on the embedded API server", () => {
  it("turns AgentReady False when heartbeats stop and Running again when they resume", async () => {
    const { server, kc } = await api();
    const { c, workload } = await controller(kc, "solo");
    await c.ready;
    await client(server.kubeconfigPath).create(echoServer("hb"));
    const w = await eventually("the workload", () => workload.workloads()[0]);
    await report(c, w.token, "hb");
    await eventually("Running", async () => (await statusOf(server.kubeconfigPath, "hb"))?.phase === "Running");

    // Silence: nothing else happens to the object, so only the heartbeat sweep can notice.
    const silent = await eventually("AgentReady False", async () => {
      const s = await statusOf(server.kubeconfigPath, "hb");
      return s?.conditions?.find((x) => x.type === "AgentReady")?.status === "False" ? s : undefined;
    });
    expect(silent.conditions?.find((x) => x.type === "AgentReady")?.reason).toBe("HeartbeatMissed");
    expect(silent.phase).not.toBe("Running");

    await report(c, w.token, "hb");
    await eventually("Running again", async () => (await statusOf(server.kubeconfigPath, "hb"))?.phase === "Running");
  });

  it("lets only the Lease holder act; after failover the new leader adopts the same workload and re-delivers its URL", async () => {
    const { server, kc } = await api();
    // ONE world: both controllers act on the same twins, as two replicas act on one Proxmox.
    const world = twins();
    const a = await controller(kc, "a", world);
    const b = await controller(kc, "b", world);
    const leader = await Promise.race([a.c.ready.then(() => a), b.c.ready.then(() => b)]);
    const standby = leader === a ? b : a;
    expect(standby.c.isLeader()).toBe(false);

    await client(server.kubeconfigPath).create(echoServer("led"));
    const first = await eventually("the leader's workload", () => world.workload.workloads()[0]);
    expect(first.controllerUrl).toBe(leader.c.agentUrl);
    await eventually("status written", async () => (await statusOf(server.kubeconfigPath, "led"))?.vmid !== undefined);
    const writes = world.workload.writes;

    await leader.close();
    await eventually("the standby to lead", () => standby.c.isLeader());
    // Adopted by owner mark, not created again; the agent is told where the controller is now.
    const moved = await eventually("the URL re-delivered", () => {
      const w = world.workload.workloads()[0];
      return w?.controllerUrl === standby.c.agentUrl ? w : undefined;
    });
    expect(world.workload.workloads()).toHaveLength(1);
    expect(moved.id).toBe(first.id);
    expect(moved.starts).toBe(1);
    expect(world.workload.writes).toBe(writes + 1); // the update, nothing else
    await report(standby.c, moved.token, "led");
    await eventually("Running under the new leader", async () => (await statusOf(server.kubeconfigPath, "led"))?.phase === "Running");
    expect(world.routing.routes()).toHaveLength(1);
    expect(world.dns.records().filter((r) => r.name === "led.zlh.localhost")).toHaveLength(1);
  });

  it("restarts a workload whose agent is gone within a few heartbeats, also a replacement that never reports", async () => {
    const { server, kc } = await api();
    const world = twins();
    const { c } = await controller(kc, "supervisor", world);
    await c.ready;
    await client(server.kubeconfigPath).create(echoServer("sup"));
    const w = await eventually("the workload", () => world.workload.workloads()[0]);
    await report(c, w.token, "sup");
    await eventually("Running", async () => (await statusOf(server.kubeconfigPath, "sup"))?.phase === "Running");

    // The agent dies; nothing reports any more.
    world.workload.crash(w.id);
    await eventually("a replacement agent", () => world.workload.workloads()[0]?.starts === 2);
    // The replacement dies before its first report: it is replaced as well.
    world.workload.crash(w.id);
    await eventually("a second replacement", () => world.workload.workloads()[0]?.starts === 3);
    expect(world.workload.workloads()).toHaveLength(1);
  });

  it("sees a real 409 when someone writes the object under it, and converges without a duplicate", async () => {
    const { server, kc } = await api();
    const world = twins();
    const conflicts: number[] = [];
    const objects = kc.makeApiClient(CustomObjectsApi);
    let interfered = false;
    const real = apiResourceWriter(kc);
    const writer: ResourceWriter = {
      replace: (o) => real.replace(o),
      async replaceStatus(o, status) {
        if (!interfered) {
          // A user edits the object between our read and our write.
          interfered = true;
          await objects.patchNamespacedCustomObject(
            { group: "zerolaghub.dev", version: "v1alpha1", namespace: "default", plural: "gameservers", name: o.metadata.name, body: { metadata: { labels: { edited: "yes" } } } },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          );
        }
        try {
          return await real.replaceStatus(o, status);
        } catch (err) {
          if (err instanceof ApiError) conflicts.push(err.code);
          throw err;
        }
      },
    };
    const { c } = await controller(kc, "conflicted", world, { writer });
    await c.ready;
    await client(server.kubeconfigPath).create(echoServer("race"));
    const w = await eventually("the workload", () => world.workload.workloads()[0]);
    await report(c, w.token, "race");
    const s = await eventually("Running", async () => {
      const st = await statusOf(server.kubeconfigPath, "race");
      return st?.phase === "Running" ? st : undefined;
    });
    expect(conflicts).toEqual([409]);
    expect(s.vmid).toBe(w.vmid);
    expect(world.workload.workloads()).toHaveLength(1);
    expect(world.workload.writes).toBe(1);
  });

  it("reconciles again after losing the Lease and winning it back", async () => {
    const { server, kc } = await api();
    const { c, workload } = await controller(kc, "comeback");
    await c.ready;
    const leases = kc.makeApiClient(CoordinationV1Api);
    // Another holder takes the Lease; ours notices on its next renewal and steps down.
    const lease = await leases.readNamespacedLease({ namespace: "default", name: "zlh-controller" });
    lease.spec = { ...lease.spec, holderIdentity: "intruder", renewTime: new V1MicroTime(), leaseDurationSeconds: 1 };
    await leases.replaceNamespacedLease({ namespace: "default", name: "zlh-controller", body: lease });
    await eventually("leadership lost", () => !c.isLeader());
    // The intruder never renews: ours takes the Lease back once it expires.
    await eventually("leadership regained", () => c.isLeader());

    await client(server.kubeconfigPath).create(echoServer("after"));
    await eventually("the new resource reconciled", () => workload.workloads().some((w) => w.ownerMark.startsWith("GameServer/default/after/")));
  });
});
