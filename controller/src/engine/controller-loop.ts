// The worker pool that drains a WorkQueue into a reconcile function. Failures
// are turned into rate-limited retries rather than exceptions, because one bad
// object must never stop the controller from reconciling all the others.

import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { realClock, type Clock } from "./clock.js";
import type { WorkQueue } from "./workqueue.js";

export interface ReconcileResult {
  /** Reconcile this key again after the given delay (0 = as soon as a worker is free). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Child logger carrying `key` and `reconcileID`. */
  logger: Logger;
  /** Short random id correlating every log line of one reconcile. */
  reconcileID: string;
  /** Aborted when the worker pool is shutting down. */
  signal: AbortSignal;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

/** The part of WorkQueue the workers use; narrowed so tests may pass a stand-in. */
export type WorkerQueue = Pick<
  WorkQueue,
  "get" | "done" | "forget" | "addAfter" | "addRateLimited" | "numRequeues" | "shutDown"
> & { suspend?(): void };

export interface RunWorkersOptions {
  queue: WorkerQueue;
  workers: number;
  reconcile: Reconciler;
  logger: Logger;
  /**
   * Aborting shuts the queue down (or, with `keepQueue`, suspends it); in-flight reconciles
   * are awaited, queued keys dropped (kept).
   */
  signal: AbortSignal;
  /** Suspend the queue instead of shutting it down, so the next term can resume it. */
  keepQueue?: boolean;
  clock?: Clock;
}

export function newReconcileID(): string {
  return randomBytes(4).toString("hex");
}

/** Runs `workers` concurrent loops until the queue shuts down; resolves when all have exited. */
export async function runWorkers(options: RunWorkersOptions): Promise<void> {
  const { queue, signal } = options;
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
  }
  const stop = (): void => (options.keepQueue && queue.suspend ? queue.suspend() : queue.shutDown());
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  try {
    await Promise.all(Array.from({ length: options.workers }, () => workerLoop(options)));
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

async function workerLoop(options: RunWorkersOptions): Promise<void> {
  for (;;) {
    const key = await options.queue.get();
    if (key === undefined) return;
    try {
      await processOne(key, options);
    } catch {
      // Only reachable if logging itself throws; the worker must survive it.
    } finally {
      options.queue.done(key);
    }
  }
}

async function processOne(key: string, options: RunWorkersOptions): Promise<void> {
  const { queue } = options;
  const clock = options.clock ?? realClock;
  const reconcileID = newReconcileID();
  const logger = options.logger.child({ key, reconcileID });
  const started = clock.now();
  let result: ReconcileResult | void;
  try {
    result = await options.reconcile(key, { logger, reconcileID, signal: options.signal });
  } catch (err) {
    // Requeue before logging so a throwing log sink cannot lose the retry.
    queue.addRateLimited(key);
    logger.error(
      { err, retries: queue.numRequeues(key), durationMs: clock.now() - started },
      "reconcile failed; requeueing with backoff",
    );
    return;
  }
  queue.forget(key);
  const requeueAfterMs = result?.requeueAfterMs;
  if (requeueAfterMs !== undefined && Number.isFinite(requeueAfterMs)) {
    queue.addAfter(key, Math.max(0, requeueAfterMs));
  }
  logger.debug({ durationMs: clock.now() - started, requeueAfterMs }, "reconciled");
}
