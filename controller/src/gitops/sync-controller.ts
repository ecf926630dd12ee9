// The Sync controller: an informer over Syncs feeds a work queue; each Sync runs again at
// its interval (sooner while its resources are still becoming Ready), at once when its
// spec or its reconcile-request annotation changes, and — for a local folder — shortly
// after a file under it changes (chokidar, debounced). Only the leader applies.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { watch, type FSWatcher } from "chokidar";
import type { Logger } from "pino";
import type { Sync } from "../../../schemas/generated/types.js";
import { realClock, type Clock, type TimerHandle } from "../engine/clock.js";
import { runWorkers } from "../engine/controller-loop.js";
import { customResourceInformer } from "../engine/custom-resource-informer.js";
import { WorkQueue } from "../engine/workqueue.js";
import { GROUP, VERSION } from "../plan/resource.js";
import { httpStatusOf } from "../resources/api-client.js";
import type { EventRecorder } from "../resources/event-recorder.js";
import { apiObjects, type ObjectApi } from "./apply.js";
import { parseDuration } from "./duration.js";
import { GitCache } from "./git-source.js";
import { REQUESTED_AT_ANNOTATION } from "./inventory.js";
import { fetchPathSource } from "./path-source.js";
import { makeSyncReconciler, type SyncApi } from "./sync-reconciler.js";

export interface SyncControllerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  events: EventRecorder;
  /** Git checkouts live under here (one per Sync). */
  cacheDir: string;
  clock?: Clock;
  /** Whether this process may apply (the Lease holder); standbys keep their cache only. */
  isLeader?: () => boolean;
  workers?: number;
  /** Quiet time after the last file change before a folder is applied again. Default 300 ms. */
  debounceMs?: number;
  /** Next look at a Sync whose resources are not all Ready yet. Default 5 s. */
  progressingMs?: number;
  objects?: ObjectApi;
}

export interface RunningSyncController {
  queue: WorkQueue;
  /** Resolves when the Sync informer has listed. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function apiSyncs(kc: KubeConfig): SyncApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  const at = { group: GROUP, version: VERSION, plural: "syncs" };
  return {
    async get(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...at, namespace, name })) as Sync;
      } catch (err) {
        if (httpStatusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async replaceStatus(sync, status) {
      await api.replaceNamespacedCustomObjectStatus({ ...at, namespace: sync.metadata.namespace ?? "default", name: sync.metadata.name, body: { ...sync, status } });
    },
  };
}

const keyOf = (s: Sync) => `${s.metadata.namespace ?? "default"}/${s.metadata.name}`;

/** Watches one folder per path Sync and enqueues the Sync after a quiet period. */
class FolderWatchers {
  private readonly watchers = new Map<string, { path: string; watcher: FSWatcher; timer?: TimerHandle }>();
  constructor(private readonly clock: Clock, private readonly debounceMs: number, private readonly enqueue: (key: string) => void, private readonly log: Logger) {}

  ensure(key: string, path: string | undefined): void {
    const cur = this.watchers.get(key);
    if (cur && cur.path === path) return;
    if (cur) this.remove(key);
    if (path === undefined) return;
    const entry: { path: string; watcher: FSWatcher; timer?: TimerHandle } = { path, watcher: watch(path, { ignoreInitial: true }) };
    entry.watcher.on("all", () => {
      this.clock.clearTimeout(entry.timer);
      entry.timer = this.clock.setTimeout(() => this.enqueue(key), this.debounceMs);
    });
    entry.watcher.on("error", (err) => this.log.warn({ key, err: String(err) }, "watching sync folder failed"));
    this.watchers.set(key, entry);
  }

  remove(key: string): void {
    const cur = this.watchers.get(key);
    if (!cur) return;
    this.clock.clearTimeout(cur.timer);
    void cur.watcher.close();
    this.watchers.delete(key);
  }

  async closeAll(): Promise<void> {
    const all = [...this.watchers.values()];
    this.watchers.clear();
    for (const w of all) this.clock.clearTimeout(w.timer);
    await Promise.all(all.map((w) => w.watcher.close()));
  }
}

export async function startSyncController(o: SyncControllerOptions): Promise<RunningSyncController> {
  const clock = o.clock ?? realClock;
  const log = o.logger.child({ component: "sync" });
  const queue = new WorkQueue({ clock });
  const git = new GitCache(o.cacheDir, log);
  const informer = customResourceInformer<KubernetesObject>(o.kubeConfig, { group: GROUP, version: VERSION, plural: "syncs" }, { clock, logger: log, resyncMs: 0 });
  const folders = new FolderWatchers(clock, o.debounceMs ?? 300, (key) => queue.add(key), log);
  const run = makeSyncReconciler({
    objects: o.objects ?? apiObjects(o.kubeConfig),
    syncs: apiSyncs(o.kubeConfig),
    fetch: (sync) => (sync.spec.source.git ? git.fetch(keyOf(sync), sync.metadata.uid ?? keyOf(sync), sync.spec.source.git) : fetchPathSource(sync)),
    events: o.events,
    clock,
    logger: log,
  });

  const track = (obj: KubernetesObject) => {
    const s = obj as unknown as Sync;
    folders.ensure(keyOf(s), s.spec?.suspend ? undefined : s.spec?.source?.path);
  };
  // Our own status writes come back as updates too: only a new spec (generation) or a new
  // reconcile request runs a Sync again before its interval.
  const seen = new Map<string, string>();
  const onChange = (obj: KubernetesObject) => {
    track(obj);
    const s = obj as unknown as Sync;
    const mark = `${s.metadata.generation ?? 0}|${s.metadata.annotations?.[REQUESTED_AT_ANNOTATION] ?? ""}`;
    if (seen.get(keyOf(s)) === mark) return;
    seen.set(keyOf(s), mark);
    queue.add(keyOf(s));
  };
  informer.on("add", onChange);
  informer.on("update", onChange);
  informer.on("delete", (obj) => {
    const key = keyOf(obj as unknown as Sync);
    seen.delete(key);
    folders.remove(key);
    queue.forget(key);
  });

  const reconcile = async (key: string) => {
    if (o.isLeader && !o.isLeader()) return { requeueAfterMs: 2000 };
    const [ns, name] = key.split("/") as [string, string];
    const result = await run(ns, name);
    if (!result) return {};
    const sync = informer.get(ns, name) as unknown as Sync | undefined;
    const interval = parseDuration(sync?.spec.interval ?? "1m");
    return { requeueAfterMs: result.progressing ? Math.min(interval, o.progressingMs ?? 5000) : interval };
  };

  const stop = new AbortController();
  const ready = informer.start();
  const workers = runWorkers({ queue, workers: o.workers ?? 2, reconcile, logger: log, signal: stop.signal, clock });
  return {
    queue,
    ready,
    async close() {
      stop.abort();
      await workers;
      await informer.stop();
      await folders.closeAll();
    },
  };
}
