// A reconciler wired to in-memory twins, an in-memory object store standing in for the
// informer cache + API writes (with resourceVersion checks), and a fake clock.
import { pino } from "pino";
import type { GameServer, ResourceStatus } from "../../../schemas/generated/types.js";
import { AgentReportStore } from "../../src/agent-endpoint/agent-report-store.js";
import { FakeClock } from "../../src/engine/clock.js";
import type { ZlhResource } from "../../src/plan/resource.js";
import { MemoryDnsProvider } from "../../src/providers/dns/memory.js";
import { MemoryRouteProvider } from "../../src/providers/routing/memory.js";
import { MemoryWorkloadProvider } from "../../src/providers/workload/memory.js";
import { Allocator } from "../../src/resources/allocator.js";
import { memoryEventRecorder } from "../../src/resources/event-recorder.js";
import { cachedProviders } from "../../src/resources/observed-cache.js";
import { makeReconciler, resourceKey, type Providers } from "../../src/resources/reconciler.js";

export class ConflictError extends Error {
  readonly code = 409;
}

export interface HarnessOptions {
  /** Configures a Traefik edge (names in the main DNS provider then point at it). */
  edgeAddress?: string;
  /** Adds a second DNS provider publishing internal names (the workload's own address). */
  internalDns?: boolean;
  /** Puts the observed-state cache the manager uses between reconciler and twins. */
  cached?: boolean;
  /** The agent endpoint URL the reconciler hands to workloads. */
  agentUrl?: string;
}

export function harness(opts: HarnessOptions = {}) {
  const clock = new FakeClock(Date.parse("2026-11-27T00:00:00Z"));
  const objects = new Map<string, ZlhResource>();
  let rv = 0;
  const calls: string[] = [];
  const workload = new MemoryWorkloadProvider();
  const dns = new MemoryDnsProvider();
  const internal = new MemoryDnsProvider();
  const routing = new MemoryRouteProvider();
  const reports = new AgentReportStore({ clock });
  const events = memoryEventRecorder();
  const allocator = new Allocator({ from: 100, to: 199 }, { from: 30000, to: 30009 });
  const spy = <T extends object>(name: string, p: T): T =>
    new Proxy(p, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv);
        if (typeof v !== "function" || !["observe", "create", "start", "update", "delete", "apply", "list", "listOwned", "listAll"].includes(String(prop))) return v;
        return (...args: unknown[]) => {
          calls.push(`${name}.${String(prop)}`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const store = (obj: ZlhResource, check: boolean): ZlhResource => {
    const key = resourceKey(obj);
    const cur = objects.get(key);
    if (check && cur?.metadata.resourceVersion !== obj.metadata.resourceVersion) throw new ConflictError("stale resourceVersion");
    const next = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } });
    // The API deletes an object being deleted once its last finalizer is gone.
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) objects.delete(key);
    else objects.set(key, next);
    return next;
  };
  const raw: Providers = { workload: spy("workload", workload), dns: [{ provider: spy("dns", dns), target: "edge" }, ...(opts.internalDns ? [{ provider: spy("internal-dns", internal), target: "workload" as const }] : [])], routing: spy("routing", routing) };
  const cache = opts.cached ? cachedProviders(raw) : undefined;
  const reconcile = makeReconciler({
    get: (key) => structuredClone(objects.get(key)),
    writer: {
      replace: async (obj) => {
        calls.push("api.replace");
        return store({ ...obj, status: objects.get(resourceKey(obj))?.status } as ZlhResource, true);
      },
      replaceStatus: async (obj, status: ResourceStatus) => {
        calls.push("api.replaceStatus");
        return store({ ...objects.get(resourceKey(obj))!, metadata: obj.metadata, status } as ZlhResource, true);
      },
    },
    providers: cache ?? raw,
    allocator,
    reports,
    agentToken: (r) => `zlha.token-for-${r.metadata.name}`,
    agentUrl: opts.agentUrl ?? "http://127.0.0.1:1",
    heartbeatSeconds: 5,
    missedHeartbeats: 3,
    settings: { zone: "zlh.localhost", ttl: 60, httpEntryPoint: "websecure", ...(opts.edgeAddress ? { edgeAddress: opts.edgeAddress } : {}) },
    clock,
    events,
    logger: pino({ level: "silent" }),
  });

  /** Reconciles until a pass changes nothing in the store (or `max` passes). */
  async function converge(key: string, max = 10): Promise<void> {
    for (let i = 0; i < max; i++) {
      const before = objects.get(key)?.metadata.resourceVersion;
      await reconcile(key);
      if (objects.get(key)?.metadata.resourceVersion === before) return;
    }
    throw new Error(`${key} did not converge in ${max} passes`);
  }

  function create(obj: ZlhResource): string {
    const stored = store(structuredClone({ ...obj, metadata: { namespace: "default", uid: `uid-${obj.metadata.name}`, generation: 1, ...obj.metadata } }) as ZlhResource, false);
    return resourceKey(stored);
  }

  function markDeleted(key: string): void {
    const o = objects.get(key)!;
    objects.set(key, { ...o, metadata: { ...o.metadata, deletionTimestamp: new Date(clock.now()).toISOString(), resourceVersion: String(++rv) } });
  }

  const writes = () => calls.filter((c) => !c.startsWith("api.") && /\.(create|start|update|delete|apply)$/.test(c)).length;
  const reads = () => calls.filter((c) => /\.(observe|list|listOwned|listAll)$/.test(c)).length;
  return { clock, objects, calls, writes, reads, workload, dns, internal, routing, reports, events, allocator, cache, reconcile, converge, create, markDeleted };
}

export function gameServer(name = "mc1", over: Partial<GameServer["spec"]> = {}): GameServer {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name },
    spec: { game: "minecraft", command: ["srv"], ports: [{ name: "game", port: 25565 }], ...over },
  };
}

export function running(now: string) {
  return { state: "running" as const, restarts: 0, provisioningComplete: true, version: "0.1.0", time: now, pid: 42 };
}
