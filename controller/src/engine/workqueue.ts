// A keyed work queue with client-go's guarantees. Reconcilers are
// level-triggered, so a key only needs to be processed once per burst of
// changes, and never by two workers at the same time (they would race on the
// same object).

import { realClock, type Clock, type TimerHandle } from "./clock.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.js";

/** Hooks for exporting queue health (e.g. to prom-client). All optional to implement beyond the three counters. */
export interface QueueMetrics {
  /** Keys waiting to be handed out (not counting delayed or in-flight keys). */
  setDepth(depth: number): void;
  /** A key was accepted into the queue (deduplicated adds are not counted). */
  incAdds(): void;
  /** A key was re-added through the rate limiter after a failure. */
  incRetries(): void;
  /** Time from a key being queued to being handed to a worker. */
  observeQueueLatencyMs?(ms: number): void;
  /** Time from hand-out to `done`. */
  observeWorkDurationMs?(ms: number): void;
}

export const noopQueueMetrics: QueueMetrics = {
  setDepth: () => {},
  incAdds: () => {},
  incRetries: () => {},
};

export interface WorkQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: QueueMetrics;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: QueueMetrics;

  // `queue` holds keys ready to hand out; `dirty` marks keys that need
  // processing (queued, or re-added while processing); `processing` holds keys
  // currently owned by a worker. A dirty key that is processing stays out of
  // `queue` until `done`, which is how one key never reaches two workers.
  private queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly queuedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private waiters: Array<(key: string | undefined) => void> = [];

  private readonly delayed = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;

  private shuttingDown = false;
  private draining = false;
  private drainWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = options.metrics ?? noopQueueMetrics;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.queuedAt.set(key, this.clock.now());
    this.metrics.incAdds();
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.metrics.setDepth(this.queue.length);
    this.dispatch();
  }

  /** Adds `key` once `ms` have passed. If the key is already waiting, the earlier deadline wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const readyAt = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing <= readyAt) return;
    this.delayed.set(key, readyAt);
    this.armTimer();
  }

  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.incRetries();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Ends the backoff history of `key`; call after it was processed successfully. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * Waits for the next key; the caller owns it until `done(key)`.
   * Resolves `undefined` once the queue is shut down (after a drain: once
   * nothing is left to hand out).
   */
  get(): Promise<string | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.handOut());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    if (!this.processing.delete(key)) return;
    const started = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (started !== undefined) this.metrics.observeWorkDurationMs?.(this.clock.now() - started);
    if (this.dirty.has(key) && (!this.shuttingDown || this.draining)) {
      this.queue.push(key);
      this.metrics.setDepth(this.queue.length);
      this.dispatch();
    }
    this.settleShutdown();
  }

  /** Keys ready to hand out (excludes delayed and in-flight keys), as in client-go. */
  len(): number {
    return this.queue.length;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops at once: new adds are ignored, queued and delayed keys are dropped
   * and every `get` resolves `undefined`. In-flight keys may still call `done`.
   * (client-go still hands out already-queued keys here; we drop them because
   * informers re-list on the next start anyway and shutdown should be quick.)
   */
  shutDown(): void {
    this.beginShutdown(false);
    this.queue = [];
    this.dirty.clear();
    this.queuedAt.clear();
    this.metrics.setDepth(0);
    this.settleShutdown();
  }

  /**
   * Stops accepting keys but keeps handing out the ones already queued
   * (delayed ones are dropped); resolves once every handed-out key is done.
   */
  shutDownWithDrain(): Promise<void> {
    this.beginShutdown(!this.shuttingDown || this.draining);
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.settleShutdown();
    return drained;
  }

  private beginShutdown(drain: boolean): void {
    this.shuttingDown = true;
    this.draining = drain;
    this.delayed.clear();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }

  private settleShutdown(): void {
    if (!this.shuttingDown || this.queue.length > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
    if (this.processing.size === 0) {
      const drainWaiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const d of drainWaiters) d();
    }
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.queue.length > 0) {
      this.waiters.shift()!(this.handOut());
    }
  }

  private handOut(): string {
    const key = this.queue.shift()!;
    this.processing.add(key);
    this.dirty.delete(key);
    const now = this.clock.now();
    const queued = this.queuedAt.get(key);
    this.queuedAt.delete(key);
    if (queued !== undefined) this.metrics.observeQueueLatencyMs?.(now - queued);
    this.startedAt.set(key, now);
    this.metrics.setDepth(this.queue.length);
    return key;
  }

  // One timer for the earliest delayed key. A linear scan is fine at the
  // scale of one control plane (thousands of keys, not millions).
  private armTimer(): void {
    let earliest: number | undefined;
    for (const at of this.delayed.values()) if (earliest === undefined || at < earliest) earliest = at;
    if (earliest === this.timerAt) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = earliest;
    if (earliest === undefined) return;
    this.timer = this.clock.setTimeout(() => this.fireDelayed(), earliest - this.clock.now());
  }

  private fireDelayed(): void {
    this.timer = undefined;
    this.timerAt = undefined;
    const now = this.clock.now();
    for (const [key, at] of this.delayed) {
      if (at <= now) {
        this.delayed.delete(key);
        this.add(key);
      }
    }
    this.armTimer();
  }
}
