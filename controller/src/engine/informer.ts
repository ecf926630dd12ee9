// client-node's informer gives up for good on any watch error other than 410,
// never resyncs, and resolves start() even when the initial list failed. This
// wrapper turns it into the informer controllers need: it restarts with
// backoff until deliberately stopped, reports sync only after a real list, and
// periodically replays the cache so level-triggered reconcilers self-heal.

import {
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ObjectCache,
} from "@kubernetes/client-node";
import { pino, type Logger } from "pino";
import { realClock, type Clock, type TimerHandle } from "./clock.js";
import { pacedListWatchFactory } from "./paced-watch.js";
import { ItemExponentialRateLimiter, type RateLimiter } from "./rate-limiter.js";

export type UnderlyingInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/**
 * Builds the informer being wrapped. The default is what client-node's
 * `makeInformer(kc, path, listFn, labelSelector)` returns, with its watch
 * paced (see paced-watch.ts).
 */
export type InformerFactory<T extends KubernetesObject> = (
  path: string,
  listFn: ListPromise<T>,
  labelSelector?: string,
) => UnderlyingInformer<T>;

export type ObjectEvent = "add" | "update" | "delete";
export type ObjectHandler<T> = (obj: T) => void;
export type ErrorHandler = (err: unknown) => void;

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** Watch path, e.g. `/apis/zerolaghub.dev/v1alpha1/gameservers`. */
  path: string;
  /** Lists the same collection as `path` (with the same label selector). */
  listFn: ListPromise<T>;
  /** Needed only when `factory` is not given. */
  kubeConfig?: KubeConfig;
  factory?: InformerFactory<T>;
  labelSelector?: string;
  clock?: Clock;
  /** Replays every cached object as `update` this often; 0 disables. Default 10 min. */
  resyncMs?: number;
  /** Delay between restarts. Default 800 ms doubling to 30 s, like client-go's reflector. */
  restartBackoff?: RateLimiter;
  /** A run that stayed healthy this long resets the backoff. Default 60 s. */
  healthyResetMs?: number;
  logger?: Logger;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly clock: Clock;
  private readonly factory: InformerFactory<T>;
  private readonly backoff: RateLimiter;
  private readonly resyncMs: number;
  private readonly healthyResetMs: number;
  private readonly log: Logger;
  private readonly handlers = {
    add: [] as ObjectHandler<T>[],
    update: [] as ObjectHandler<T>[],
    delete: [] as ObjectHandler<T>[],
    error: [] as ErrorHandler[],
  };

  private inner: UnderlyingInformer<T> | undefined;
  // Bumped per start(): events from an informer of an earlier run are ignored.
  private generation = 0;
  private running = false;
  private synced = false;
  private syncWaiters: Array<() => void> = [];

  private attempt: Promise<void> | undefined;
  private attemptFailed = false;
  private attemptError: unknown;
  private listedInAttempt = false;
  private healthySince: number | undefined;
  private restartTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;

  constructor(private readonly options: ResilientInformerOptions<T>) {
    this.clock = options.clock ?? realClock;
    this.backoff = options.restartBackoff ?? new ItemExponentialRateLimiter(800, 30_000);
    this.resyncMs = options.resyncMs ?? 10 * 60_000;
    this.healthyResetMs = options.healthyResetMs ?? 60_000;
    this.log = (options.logger ?? pino({ level: "silent" })).child({ informer: options.path });
    if (!options.factory && !options.kubeConfig) throw new Error("ResilientInformer needs kubeConfig or factory");
    this.factory = options.factory ?? pacedListWatchFactory<T>(new Watch(options.kubeConfig!), this.clock);
  }

  on(event: ObjectEvent, handler: ObjectHandler<T>): void;
  /** Every underlying failure (informational; restarts happen regardless). */
  on(event: "error", handler: ErrorHandler): void;
  on(event: ObjectEvent | "error", handler: ObjectHandler<T> | ErrorHandler): void {
    (this.handlers[event] as Array<typeof handler>).push(handler);
  }

  /**
   * Starts list+watch and resolves once the first list has been delivered
   * (hasSynced). Failures are retried forever; if stop() comes first the
   * promise resolves anyway, so check hasSynced().
   */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.synced = false;
      this.inner = this.createInner(++this.generation);
      void this.runAttempt();
    }
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Stops for good (until start() is called again); no restart follows. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimeout(this.restartTimer);
    this.clock.clearTimeout(this.resyncTimer);
    this.restartTimer = this.resyncTimer = undefined;
    this.releaseSyncWaiters();
    const inner = this.inner;
    const attempt = this.attempt;
    if (!inner) return;
    // ListWatch only checks `stopped` before listing, so a start in flight
    // could still open a watch: a list in flight fails in our listFn wrapper,
    // and a watch still connecting is aborted by stopping again once the start
    // settles. Not awaited: a hung request must not block shutdown.
    if (attempt) void attempt.then(() => inner.stop());
    await inner.stop();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  list(): T[] {
    return this.inner ? [...this.inner.list()] : [];
  }

  /** `namespace` is ignored for cluster-scoped objects (pass undefined or ""). */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.inner?.get(name, namespace || undefined);
  }

  private createInner(generation: number): UnderlyingInformer<T> {
    const live = (): boolean => this.running && this.generation === generation;
    const listFn: ListPromise<T> = async () => {
      const list = await this.options.listFn();
      // Throwing here makes ListWatch bail out before it opens a watch for a
      // run that has been stopped meanwhile.
      if (!live()) throw new Error("informer stopped");
      this.listedInAttempt = true;
      return list;
    };
    const inner = this.factory(this.options.path, listFn, this.options.labelSelector);
    for (const event of ["add", "update", "delete"] as const) {
      inner.on(event, (obj: T) => {
        if (live()) return this.emit(event, obj);
        // A watch that raced with stop() is still streaming: close it.
        void inner.stop();
      });
    }
    inner.on("error", (err?: unknown) => {
      if (live()) this.onInnerError(err);
    });
    return inner;
  }

  private async runAttempt(): Promise<void> {
    const inner = this.inner;
    const generation = this.generation;
    if (!inner) return;
    this.attemptFailed = false;
    this.attemptError = undefined;
    this.listedInAttempt = false;
    const attempt = inner.start().catch((err: unknown) => {
      this.attemptFailed = true;
      this.attemptError = err;
    });
    this.attempt = attempt;
    await attempt;
    if (this.attempt === attempt) this.attempt = undefined;
    if (!this.running || this.generation !== generation) return;
    // start() returns after the list was applied to the cache, so handlers have
    // seen every listed object by now, even if the watch then failed.
    if (this.listedInAttempt) this.markSynced();
    if (this.attemptFailed) {
      this.scheduleRestart(this.attemptError);
    } else {
      this.healthySince = this.clock.now();
      this.log.debug({ synced: this.synced }, "informer watching");
    }
  }

  private onInnerError(err: unknown): void {
    this.emitError(err);
    if (this.attempt) {
      // The attempt in flight reports its own failure when start() returns.
      this.attemptFailed = true;
      this.attemptError = err;
      return;
    }
    this.scheduleRestart(err);
  }

  private scheduleRestart(err: unknown): void {
    if (!this.running || this.restartTimer !== undefined) return;
    const key = this.options.path;
    const now = this.clock.now();
    if (this.healthySince !== undefined && now - this.healthySince >= this.healthyResetMs) this.backoff.forget(key);
    this.healthySince = undefined;
    const delayMs = this.backoff.when(key);
    this.log.warn({ err, delayMs, failures: this.backoff.numRequeues(key) }, "informer failed; restarting");
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      void this.runAttempt();
    }, delayMs);
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.log.info({ objects: this.inner?.list().length ?? 0 }, "informer synced");
    this.releaseSyncWaiters();
    this.scheduleResync();
  }

  private scheduleResync(): void {
    if (this.resyncMs <= 0 || !this.running) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      if (!this.running) return;
      // Replays from the cache, so it keeps reconcilers busy (and drift
      // corrected) even while the watch itself is down and restarting.
      for (const obj of this.list()) this.emit("update", obj);
      this.scheduleResync();
    }, this.resyncMs);
  }

  private releaseSyncWaiters(): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
  }

  private emit(event: ObjectEvent, obj: T): void {
    // A throwing handler must not skip the others, nor leak into ListWatch,
    // which silently drops the rest of a watch event or aborts a list.
    for (const h of this.handlers[event]) {
      try {
        h(obj);
      } catch (err) {
        this.log.error({ err, event, name: obj.metadata?.name, namespace: obj.metadata?.namespace }, "informer handler threw");
      }
    }
  }

  private emitError(err: unknown): void {
    for (const h of this.handlers.error) {
      try {
        h(err);
      } catch (handlerErr) {
        this.log.error({ err: handlerErr }, "informer error handler threw");
      }
    }
  }
}
