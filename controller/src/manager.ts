// Wires the engine to the reconciler: informers feed the queue, workers reconcile while this
// process holds the Lease, agents report to their endpoint, and sweeps (agent supervision,
// resync, orphans) run beside them. Caches run on standbys too, so failover is quick.
import { randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { AgentReportStore } from "./agent-endpoint/agent-report-store.js";
import { startAgentEndpoint, type AgentResource, type AgentSpecResponse, type RunningAgentEndpoint } from "./agent-endpoint/agent-endpoint.js";
import { mintAgentToken } from "./agent-endpoint/agent-token.js";
import { realClock, type Clock } from "./engine/clock.js";
import { runWorkers } from "./engine/controller-loop.js";
import { customResourceInformer } from "./engine/custom-resource-informer.js";
import type { ResilientInformer } from "./engine/informer.js";
import { shareKeepAliveAgent } from "./engine/keep-alive.js";
import { coordinationLeaseClient } from "./engine/lease-client.js";
import { LeaseElector } from "./engine/lease-elector.js";
import { WorkQueue } from "./engine/workqueue.js";
import type { Range } from "./plan/allocation.js";
import { GROUP, VERSION, kinds, ownerOf, pluralOf, type PlanSettings, type ZlhResource } from "./plan/resource.js";
import { controllerMetrics } from "./controller-metrics.js";
import { withCallCounts } from "./providers/instrumented.js";
import { AgentSupervisor } from "./resources/agent-supervision.js";
import { Allocator } from "./resources/allocator.js";
import { apiResourceWriter, httpStatusOf, type ResourceWriter } from "./resources/api-client.js";
import { apiEventRecorder, type EventRecorder } from "./resources/event-recorder.js";
import { collectGarbage, gcMetrics, type GarbageOptions } from "./resources/garbage-collector.js";
import { cachedProviders, type CachedProviders } from "./resources/observed-cache.js";
import { OwnWrites } from "./resources/own-writes.js";
import { makeReconciler, resourceKey, type Providers } from "./resources/reconciler.js";

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  providers: Providers;
  settings: PlanSettings;
  workers: number;
  vmids: Range;
  publicPorts: Range;
  heartbeatSeconds: number;
  missedHeartbeats: number;
  agentListen: string;
  agentSecret: Buffer;
  /** Resolves a spec's catalog artifacts for its agent (runtime-catalog.ts). */
  agentArtifacts?: (resource: AgentResource) => AgentSpecResponse["artifacts"];
  logger: Logger;
  clock?: Clock;
  identity?: string;
  lease?: { namespace: string; name: string; durationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  gcIntervalMs?: number;
  /** Most provider objects one garbage-collection sweep removes. Default 100. */
  gcLimit?: number;
  /** Providers are listed again and every resource reconciled this often. Default 10 min. */
  resyncMs?: number;
  /** Test seams: defaults talk to the API through client-node. */
  writer?: ResourceWriter;
  events?: EventRecorder;
}

export interface RunningController {
  agentUrl: string;
  /** The work queue (kept across leadership terms). */
  readonly queue: WorkQueue;
  reports: AgentReportStore;
  informers: Record<"gameservers" | "devenvironments", ResilientInformer<KubernetesObject>>;
  /** The observed-state cache in front of the providers. */
  providers: CachedProviders;
  isLeader(): boolean;
  /** Resolves once caches are synced and this process leads. */
  ready: Promise<void>;
  collectGarbage(options?: GarbageOptions): ReturnType<typeof collectGarbage>;
  /** Lists providers again and enqueues every resource (what the periodic resync does). */
  resync(): Promise<void>;
  close(): Promise<void>;
}

export async function startController(o: ControllerOptions): Promise<RunningController> {
  const clock = o.clock ?? realClock;
  const log = o.logger;
  const metrics = controllerMetrics();
  shareKeepAliveAgent(o.kubeConfig);
  // One queue for the life of the process: suspended between leadership terms, so a term
  // won back by the same identity does not start over with every key.
  const queue = new WorkQueue({ clock, metrics: metrics.queue });
  const providers = cachedProviders({
    workload: withCallCounts(o.providers.workload, { registry: metrics.registry }),
    dns: o.providers.dns.map((t) => ({ ...t, provider: withCallCounts(t.provider, { registry: metrics.registry }) })),
    routing: withCallCounts(o.providers.routing, { registry: metrics.registry }),
  });
  const reports = new AgentReportStore({ clock, onChange: (key) => queue.add(key) });
  let leading = false;
  const allocator = new Allocator(o.vmids, o.publicPorts);
  const own = new OwnWrites();
  // Resync is the manager's (it lists providers first), so the informers do not replay.
  const informerOptions = { clock, logger: log, resyncMs: 0 };
  const informers = {
    gameservers: customResourceInformer<KubernetesObject>(o.kubeConfig, { group: GROUP, version: VERSION, plural: "gameservers" }, informerOptions),
    devenvironments: customResourceInformer<KubernetesObject>(o.kubeConfig, { group: GROUP, version: VERSION, plural: "devenvironments" }, informerOptions),
  };
  const cached = (key: string): ZlhResource | undefined => {
    const [plural, ns, name] = key.split("/");
    const inf = informers[plural as keyof typeof informers];
    // Custom objects arrive as plain JSON (no client-side deserialisation), so the cast holds.
    return inf && name ? (inf.get(ns, name) as unknown as ZlhResource | undefined) : undefined;
  };
  const get = (key: string) => own.read(key, cached(key));
  const allResources = function* (): Generator<ZlhResource> {
    for (const inf of Object.values(informers)) for (const r of inf.list()) yield r as unknown as ZlhResource;
  };
  for (const inf of Object.values(informers)) {
    const enqueue = (o: KubernetesObject) => {
      const r = o as unknown as ZlhResource;
      allocator.observe(resourceKey(r), r.status);
      if (own.isNews(r)) queue.add(resourceKey(r));
    };
    inf.on("add", enqueue);
    inf.on("update", enqueue);
    inf.on("delete", (o) => {
      const key = resourceKey(o as unknown as ZlhResource);
      own.forget(key);
      queue.add(key);
    });
  }

  const endpoint: RunningAgentEndpoint = await startAgentEndpoint({
    listen: o.agentListen,
    secret: o.agentSecret,
    lookup: (plural, ns, name) => get(`${plural}/${ns}/${name}`),
    reports,
    clock,
    logger: log,
    heartbeatSeconds: o.heartbeatSeconds,
    registry: metrics.registry,
    artifacts: o.agentArtifacts,
    ready: () => leading,
  });

  const events = o.events ?? apiEventRecorder(o.kubeConfig, log, { now: () => new Date(clock.now()) });
  const reconcile = makeReconciler({
    get,
    writer: own.wrap(o.writer ?? apiResourceWriter(o.kubeConfig)),
    providers,
    allocator,
    reports,
    agentToken: (r) => mintAgentToken(o.agentSecret, { plural: pluralOf(r.kind), namespace: r.metadata.namespace ?? "default", name: r.metadata.name, uid: r.metadata.uid ?? "" }),
    agentUrl: endpoint.url,
    heartbeatSeconds: o.heartbeatSeconds,
    missedHeartbeats: o.missedHeartbeats,
    settings: o.settings,
    clock,
    events,
    logger: log,
  });

  // 409: the store holds a newer version than the one we wrote from. Its watch event
  // enqueues the key again; the short requeue covers an event that was ours after all.
  const reconcileQuietly = async (key: string) => {
    try {
      return await metrics.observeReconcile(key.slice(0, key.indexOf("/")), () => reconcile(key));
    } catch (err) {
      const code = httpStatusOf(err);
      if (code === 409) {
        log.debug({ key }, "conflict; waiting for the newer version");
        own.forget(key);
        return { requeueAfterMs: 1000 };
      }
      // The object is gone (e.g. our finalizer removal already deleted it): its DELETED
      // event is on the way and there is nothing left to do for it.
      if (code === 404) return {};
      throw err;
    }
  };

  const stop = new AbortController();
  await Promise.all(Object.values(informers).map((i) => i.start()));

  const ownerExists = (owner: { kind: ZlhResource["kind"]; namespace: string; name: string; uid: string }) =>
    get(`${kinds[owner.kind].plural}/${owner.namespace}/${owner.name}`)?.metadata.uid === owner.uid;
  const gcCounters = gcMetrics(metrics.registry);
  const gc = (options: GarbageOptions = {}) => collectGarbage(providers, ownerExists, log, { limit: o.gcLimit ?? 100, events, metrics: gcCounters, ...options });
  const enqueueAll = () => {
    for (const r of allResources()) queue.add(resourceKey(r));
  };
  const resync = async () => {
    await providers.refresh();
    enqueueAll();
  };

  const supervisor = new AgentSupervisor({
    reports,
    heartbeatSeconds: o.heartbeatSeconds,
    missedHeartbeats: o.missedHeartbeats,
    *resources() {
      for (const r of allResources()) if (!r.metadata.deletionTimestamp && r.status?.vmid !== undefined) yield { key: resourceKey(r), owner: ownerOf(r) };
    },
    enqueue: (key) => queue.add(key),
    invalidate: (owner) => providers.invalidateWorkload(owner),
  });

  let markReady!: () => void;
  let previousTerm: Promise<void> = Promise.resolve();
  // A fresh process, or another identity held the Lease since our last term: the world may
  // have changed behind our back, so list providers again and reconcile everything.
  let fullSyncNeeded = true;
  const identity = o.identity ?? `${osHostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const ready = new Promise<void>((r) => (markReady = r));
  const elector = new LeaseElector({
    client: coordinationLeaseClient(o.kubeConfig),
    namespace: o.lease?.namespace ?? "default",
    name: o.lease?.name ?? "zlh-controller",
    identity,
    clock,
    logger: log,
    releaseOnCancel: true,
    leaseDurationMs: o.lease?.durationMs,
    renewDeadlineMs: o.lease?.renewDeadlineMs,
    retryPeriodMs: o.lease?.retryPeriodMs,
    callbacks: {
      onNewLeader: (holder) => {
        if (holder !== identity) fullSyncNeeded = true;
      },
      onStartedLeading: async (signal) => {
        // The elector may hand us a new term before the last term's reconciles finished:
        // wait for them, so no key is ever reconciled by two workers at once.
        await previousTerm;
        if (signal.aborted) return;
        let endTerm!: () => void;
        previousTerm = new Promise<void>((r) => (endTerm = r));
        try {
          leading = true;
          if (fullSyncNeeded) {
            fullSyncNeeded = false;
            await providers.refresh();
            enqueueAll();
          }
          log.info({ queued: queue.len() }, "leading");
          const sweeps = startSweeps(signal);
          queue.resume();
          markReady();
          await runWorkers({ queue, workers: o.workers, reconcile: reconcileQuietly, logger: log, signal, clock, keepQueue: true });
          sweeps();
        } finally {
          endTerm();
        }
      },
      onStoppedLeading: () => {
        leading = false;
        if (stop.signal.aborted) log.info({}, "stopped leading");
        else log.warn({}, "leadership lost");
      },
    },
  });
  // run() returns when leadership ends and does not campaign again (like client-go): campaign again.
  const electing = (async () => {
    while (!stop.signal.aborted) {
      await elector.run(stop.signal).catch((err: unknown) => log.error({ err }, "leader election failed"));
      if (!stop.signal.aborted) await clock.sleep(1000, stop.signal);
    }
  })();

  function startSweeps(signal: AbortSignal): () => void {
    const every = (ms: number, fn: () => void) => {
      let handle = clock.setTimeout(function tick() {
        fn();
        handle = clock.setTimeout(tick, ms);
      }, ms);
      return () => clock.clearTimeout(handle);
    };
    const stopBeat = every(o.heartbeatSeconds * 1000, () => {
      const woken = supervisor.tick(clock.now());
      if (woken.length > 0) log.info({ count: woken.length, keys: woken.slice(0, 10) }, "agents silent; checking their workloads");
    });
    const stopResync = every(o.resyncMs ?? 10 * 60_000, () => void resync().catch((err: unknown) => log.warn({ err }, "resync failed")));
    const sweep = () => void gc().catch((err: unknown) => log.warn({ err }, "garbage collection failed"));
    const stopGc = every(o.gcIntervalMs ?? 10 * 60_000, sweep);
    sweep();
    const clear = () => {
      stopBeat();
      stopResync();
      stopGc();
    };
    signal.addEventListener("abort", clear, { once: true });
    return clear;
  }

  return {
    agentUrl: endpoint.url,
    queue,
    reports,
    informers,
    providers,
    isLeader: () => leading,
    ready,
    collectGarbage: gc,
    resync,
    async close() {
      stop.abort();
      await electing;
      await previousTerm;
      queue.shutDown();
      await events.flush();
      await Promise.all(Object.values(informers).map((i) => i.stop()));
      await endpoint.close();
    },
  };
}
