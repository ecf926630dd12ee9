// Wires the engine to the reconciler: informers feed the queue, workers reconcile while this
// process holds the Lease, agents report to their endpoint, and two sweeps (missed
// heartbeats, orphans) run beside them. Caches run on standbys too, so failover is quick.
import { randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { AgentReportStore } from "./agent-endpoint/agent-report-store.js";
import { startAgentEndpoint, type RunningAgentEndpoint } from "./agent-endpoint/agent-endpoint.js";
import { mintAgentToken } from "./agent-endpoint/agent-token.js";
import { realClock, type Clock } from "./engine/clock.js";
import { runWorkers } from "./engine/controller-loop.js";
import { customResourceInformer } from "./engine/custom-resource-informer.js";
import type { ResilientInformer } from "./engine/informer.js";
import { coordinationLeaseClient } from "./engine/lease-client.js";
import { LeaseElector } from "./engine/lease-elector.js";
import { WorkQueue } from "./engine/workqueue.js";
import type { Range } from "./plan/allocation.js";
import { GROUP, VERSION, kinds, pluralOf, type PlanSettings, type ZlhResource } from "./plan/resource.js";
import { controllerMetrics } from "./controller-metrics.js";
import { withCallCounts } from "./providers/instrumented.js";
import { Allocator } from "./resources/allocator.js";
import { apiResourceWriter, httpStatusOf, type ResourceWriter } from "./resources/api-client.js";
import { apiEventRecorder, type EventRecorder } from "./resources/event-recorder.js";
import { collectGarbage } from "./resources/garbage-collector.js";
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
  logger: Logger;
  clock?: Clock;
  identity?: string;
  lease?: { namespace: string; name: string; durationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  gcIntervalMs?: number;
  resyncMs?: number;
  /** Test seams: defaults talk to the API through client-node. */
  writer?: ResourceWriter;
  events?: EventRecorder;
}

export interface RunningController {
  agentUrl: string;
  /** The current term's queue. */
  readonly queue: WorkQueue;
  reports: AgentReportStore;
  informers: Record<"gameservers" | "devenvironments", ResilientInformer<KubernetesObject>>;
  isLeader(): boolean;
  /** Resolves once caches are synced and this process leads. */
  ready: Promise<void>;
  collectGarbage(): ReturnType<typeof collectGarbage>;
  close(): Promise<void>;
}

export async function startController(o: ControllerOptions): Promise<RunningController> {
  const clock = o.clock ?? realClock;
  const log = o.logger;
  const metrics = controllerMetrics();
  // One queue per leadership term: runWorkers shuts its queue down when a term ends, and a
  // shut-down queue drops every add. Informer and report events go to the current one.
  let queue = new WorkQueue({ clock, metrics: metrics.queue });
  const providers: Providers = {
    workload: withCallCounts(o.providers.workload, { registry: metrics.registry }),
    dns: o.providers.dns.map((t) => ({ ...t, provider: withCallCounts(t.provider, { registry: metrics.registry }) })),
    routing: withCallCounts(o.providers.routing, { registry: metrics.registry }),
  };
  const reports = new AgentReportStore({ clock, onChange: (key) => queue.add(key) });
  let leading = false;
  const allocator = new Allocator(o.vmids, o.publicPorts);
  const informers = {
    gameservers: customResourceInformer<KubernetesObject>(o.kubeConfig, { group: GROUP, version: VERSION, plural: "gameservers" }, { clock, logger: log, resyncMs: o.resyncMs }),
    devenvironments: customResourceInformer<KubernetesObject>(o.kubeConfig, { group: GROUP, version: VERSION, plural: "devenvironments" }, { clock, logger: log, resyncMs: o.resyncMs }),
  };
  const get = (key: string): ZlhResource | undefined => {
    const [plural, ns, name] = key.split("/");
    const inf = informers[plural as keyof typeof informers];
    // Custom objects arrive as plain JSON (no client-side deserialisation), so the cast holds.
    return inf && name ? (inf.get(ns, name) as unknown as ZlhResource | undefined) : undefined;
  };
  for (const inf of Object.values(informers)) {
    const enqueue = (o: KubernetesObject) => {
      const r = o as unknown as ZlhResource;
      const key = resourceKey(r);
      allocator.observe(key, r.status);
      queue.add(key);
    };
    inf.on("add", enqueue);
    inf.on("update", enqueue);
    inf.on("delete", (o) => queue.add(resourceKey(o as unknown as ZlhResource)));
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
    ready: () => leading,
  });

  const events = o.events ?? apiEventRecorder(o.kubeConfig, log, () => new Date(clock.now()));
  const reconcile = makeReconciler({
    get,
    writer: o.writer ?? apiResourceWriter(o.kubeConfig),
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

  // 409 means the store holds a newer version than our cache; its watch event is on the
  // way and will enqueue the key again, so this is not an error worth a backoff.
  const reconcileQuietly = async (key: string) => {
    try {
      return await metrics.observeReconcile(key.slice(0, key.indexOf("/")), () => reconcile(key));
    } catch (err) {
      const code = httpStatusOf(err);
      if (code === 409) {
        log.debug({ key }, "conflict; waiting for the newer version");
        return {};
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
  const gc = () => collectGarbage(providers, ownerExists, log);

  let markReady!: () => void;
  let previousTerm: Promise<void> = Promise.resolve();
  const ready = new Promise<void>((r) => (markReady = r));
  const elector = new LeaseElector({
    client: coordinationLeaseClient(o.kubeConfig),
    namespace: o.lease?.namespace ?? "default",
    name: o.lease?.name ?? "zlh-controller",
    identity: o.identity ?? `${osHostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    clock,
    logger: log,
    releaseOnCancel: true,
    leaseDurationMs: o.lease?.durationMs,
    renewDeadlineMs: o.lease?.renewDeadlineMs,
    retryPeriodMs: o.lease?.retryPeriodMs,
    callbacks: {
      onStartedLeading: async (signal) => {
        // The elector may hand us a new term before the last term's reconciles finished:
        // wait for them, so no key is ever reconciled by two workers at once.
        await previousTerm;
        if (signal.aborted) return;
        let endTerm!: () => void;
        previousTerm = new Promise<void>((r) => (endTerm = r));
        try {
          if (queue.isShuttingDown()) queue = new WorkQueue({ clock, metrics: metrics.queue });
          leading = true;
          log.info({}, "leading");
          for (const inf of Object.values(informers)) for (const r of inf.list()) queue.add(resourceKey(r as unknown as ZlhResource));
          const sweeps = startSweeps(signal);
          markReady();
          await runWorkers({ queue, workers: o.workers, reconcile: reconcileQuietly, logger: log, signal, clock });
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

  // Missed heartbeats produce no event of their own: look for readiness changes every beat.
  function startSweeps(signal: AbortSignal): () => void {
    const lastReady = new Map<string, string>();
    const every = (ms: number, fn: () => void) => {
      let handle = clock.setTimeout(function tick() {
        fn();
        handle = clock.setTimeout(tick, ms);
      }, ms);
      return () => clock.clearTimeout(handle);
    };
    const stopBeat = every(o.heartbeatSeconds * 1000, () => {
      const now = clock.now();
      for (const key of reports.keys()) {
        const status = reports.agentReady(key, now, o.heartbeatSeconds, o.missedHeartbeats).status;
        if (lastReady.has(key) && lastReady.get(key) !== status) queue.add(key);
        lastReady.set(key, status);
      }
      for (const key of lastReady.keys()) if (!reports.get(key)) lastReady.delete(key);
    });
    const sweep = () => void gc().catch((err: unknown) => log.warn({ err }, "garbage collection failed"));
    const stopGc = every(o.gcIntervalMs ?? 10 * 60_000, sweep);
    sweep();
    const clear = () => {
      stopBeat();
      stopGc();
    };
    signal.addEventListener("abort", clear, { once: true });
    return clear;
  }

  return {
    agentUrl: endpoint.url,
    get queue() {
      return queue;
    },
    reports,
    informers,
    isLeader: () => leading,
    ready,
    collectGarbage: gc,
    async close() {
      stop.abort();
      await electing;
      await previousTerm;
      await events.flush();
      await Promise.all(Object.values(informers).map((i) => i.stop()));
      await endpoint.close();
    },
  };
}
