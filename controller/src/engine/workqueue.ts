// A keyed work queue with client-go's guarantees. Reconcilers are
// level-triggered, so a key only needs to be processed once per burst of
// changes, and never by two workers at the same time (they would race on the
// same object).
//
// Two refinements over client-go's rate-limited retries, both for recovery after a
// provider outage:
// - A key has at most one retry outstanding. A failure of an attempt that an event
//   triggered while that retry waits (an agent report, a watch event) does not grow the
//   key's backoff: only failed retries double it. Otherwise every report during an
//   outage doubled the delay, and 25 s outages took minutes to recover from.
// - The overall retry budget (a token bucket) is charged when a retry comes due, not
//   when it is scheduled, so keys waiting out a long backoff do not run the bucket into
//   a debt that then delays everyone once the provider is back.

import { realClock, type Clock, type TimerHandle } from "./clock.js";
import { DeadlineHeap } from "./deadline-heap.js";
import { BucketRateLimiter, ItemExponentialRateLimiter, type RateLimiter } from "./rate-limiter.js";

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
  /** Per-key backoff of retries. Default 5 ms doubling to 1000 s, as client-go. */
  rateLimiter?: RateLimiter;
  /**
   * Overall budget for retries, charged when a retry comes due. Default 50 per second with
   * a burst of 500; `null` for none.
   */
  retryBudget?: RateLimiter | null;
  metrics?: QueueMetrics;
}

/** A FIFO of keys with O(1) push and shift. */
class KeyFifo {
  private items: string[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(key: string): void {
    this.items.push(key);
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const key = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return key;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  keys(): string[] {
    return this.items.slice(this.head);
  }
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly retryBudget: RateLimiter | null;
  private readonly metrics: QueueMetrics;

  // `queue` holds keys ready to hand out; `dirty` marks keys that need
  // processing (queued, or re-added while processing); `processing` holds keys
  // currently owned by a worker. A dirty key that is processing stays out of
  // `queue` until `done`, which is how one key never reaches two workers.
  private readonly queue = new KeyFifo();
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly queuedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private waiters: Array<(key: string | undefined) => void> = [];

  private readonly delayed = new DeadlineHeap();
  /** Keys with a rate-limited retry outstanding (waiting in `delayed`). */
  private readonly retrying = new Set<string>();
  /** Retries that came due and were charged to the budget; they are added when `delayed` fires. */
  private readonly charged = new Set<string>();
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;

  private shuttingDown = false;
  private draining = false;
  private suspended = false;
  private drainWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? new ItemExponentialRateLimiter(5, 1_000_000);
    this.retryBudget = options.retryBudget === undefined ? new BucketRateLimiter(50, 500, this.clock) : options.retryBudget;
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
    const existing = this.delayed.dueAt(key);
    if (existing !== undefined && existing <= readyAt) return;
    this.delayed.set(key, readyAt);
    this.armTimer();
  }

  /**
   * Schedules a retry of `key` after its backoff. While one is outstanding, further
   * failures do not grow the backoff (see the file comment).
   */
  addRateLimited(key: string): void {
    if (this.shuttingDown || this.retrying.has(key)) return;
    this.metrics.incRetries();
    this.retrying.add(key);
    const ms = this.rateLimiter.when(key);
    const readyAt = this.clock.now() + ms;
    // The retry owns the delayed slot; an earlier requeueAfter of the same key still fires first.
    const existing = this.delayed.dueAt(key);
    if (existing === undefined || existing > readyAt) this.delayed.set(key, readyAt);
    this.armTimer();
  }

  /** Ends the backoff history of `key` and cancels its outstanding retry; call after a success. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
    if (this.retrying.delete(key)) {
      this.charged.delete(key);
      this.delayed.delete(key);
      this.armTimer();
    }
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** Whether a rate-limited retry of `key` is outstanding. */
  isRetrying(key: string): boolean {
    return this.retrying.has(key);
  }

  /**
   * Waits for the next key; the caller owns it until `done(key)`.
   * Resolves `undefined` once the queue is shut down (after a drain: once
   * nothing is left to hand out) or suspended.
   */
  get(): Promise<string | undefined> {
    if (this.suspended) return Promise.resolve(undefined);
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

  /** Keys handed out and not yet done. */
  inFlight(): number {
    return this.processing.size;
  }

  /** Keys waiting for a delay or a retry. */
  delayedCount(): number {
    return this.delayed.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops handing out keys but keeps every key (queued, delayed, retrying): waiting and
   * later `get`s resolve `undefined` until `resume`. Used between leadership terms, so a
   * term won back does not start from an empty queue.
   */
  suspend(): void {
    this.suspended = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }

  resume(): void {
    this.suspended = false;
  }

  isSuspended(): boolean {
    return this.suspended;
  }

  /**
   * Stops at once: new adds are ignored, queued and delayed keys are dropped
   * and every `get` resolves `undefined`. In-flight keys may still call `done`.
   * (client-go still hands out already-queued keys here; we drop them because
   * informers re-list on the next start anyway and shutdown should be quick.)
   */
  shutDown(): void {
    this.beginShutdown(false);
    this.queue.clear();
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
    this.retrying.clear();
    this.charged.clear();
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
    while (!this.suspended && this.waiters.length > 0 && this.queue.length > 0) {
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

  // One timer, for the earliest delayed key.
  private armTimer(): void {
    const earliest = this.delayed.peekAt();
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
    for (let key = this.delayed.popDue(now); key !== undefined; key = this.delayed.popDue(now)) {
      if (this.retrying.has(key) && !this.charged.has(key)) {
        const wait = this.retryBudget?.when(key) ?? 0;
        if (wait > 0) {
          this.charged.add(key);
          this.delayed.set(key, now + wait);
          continue;
        }
      }
      this.retrying.delete(key);
      this.charged.delete(key);
      this.add(key);
    }
    this.armTimer();
  }
}
