import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { runWorkers, type Reconciler } from "../../src/engine/controller-loop.js";
import { ItemExponentialRateLimiter } from "../../src/engine/rate-limiter.js";
import { WorkQueue } from "../../src/engine/workqueue.js";
import { captureLogger } from "./support/logs.js";
import { deferred, track } from "./support/promises.js";

function setup(reconcile: Reconciler, workers = 1) {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter() });
  const { logger, lines } = captureLogger();
  const ctl = new AbortController();
  const run = track(runWorkers({ queue, workers, reconcile, logger, signal: ctl.signal, clock }));
  return { clock, queue, lines, ctl, run };
}

describe("runWorkers", () => {
  it("reconciles a key again exactly requeueAfterMs after a successful reconcile", async () => {
    const calls: number[] = [];
    const { clock, queue, ctl } = setup(async () => {
      calls.push(clock.now());
      return { requeueAfterMs: 30_000 };
    });
    queue.add("ns/a");
    await clock.advanceAsync(0);
    expect(calls).toEqual([0]);
    await clock.advanceAsync(29_999);
    expect(calls).toEqual([0]);
    await clock.advanceAsync(1);
    expect(calls).toEqual([0, 30_000]);
    ctl.abort();
  });

  it("retries a failing key with growing backoff and resets it after a success", async () => {
    const calls: number[] = [];
    let failuresLeft = 3;
    const { clock, queue, ctl, lines } = setup(async () => {
      calls.push(clock.now());
      if (failuresLeft-- > 0) throw new Error("boom");
      return {};
    });
    queue.add("ns/a");
    await clock.advanceAsync(100);
    // fails at 0, +5 ms, +10 ms, then succeeds at +20 ms
    expect(calls).toEqual([0, 5, 15, 35]);
    expect(queue.numRequeues("ns/a")).toBe(0);
    expect(lines.filter((l) => l.msg === "reconcile failed; requeueing with backoff")).toHaveLength(3);
    failuresLeft = 1;
    queue.add("ns/a");
    await clock.advanceAsync(100);
    expect(calls.slice(4)).toEqual([100, 105]);
    ctl.abort();
  });

  it("keeps processing other keys when one key's reconcile throws, even synchronously", async () => {
    const seen: string[] = [];
    const reconcile: Reconciler = (key) => {
      seen.push(key);
      if (key === "bad") throw new TypeError("not even async");
      return Promise.resolve({});
    };
    const { clock, queue, ctl } = setup(reconcile);
    queue.add("bad");
    queue.add("good1");
    await clock.advanceAsync(0);
    queue.add("good2");
    await clock.advanceAsync(0);
    expect(seen).toEqual(["bad", "good1", "good2"]);
    ctl.abort();
  });

  it("logs each reconcile with the key and a reconcileID unique to that reconcile", async () => {
    const { clock, queue, ctl, lines } = setup(async (_key, { logger }) => {
      logger.info("inside");
      throw new Error("boom");
    });
    queue.add("ns/a");
    await clock.advanceAsync(5);
    const inside = lines.filter((l) => l.msg === "inside");
    const failed = lines.filter((l) => l.msg === "reconcile failed; requeueing with backoff");
    expect(inside).toHaveLength(2);
    expect(inside[0]).toMatchObject({ key: "ns/a" });
    expect(inside[0]!.reconcileID).toMatch(/^[0-9a-f]{8}$/);
    expect(inside[1]!.reconcileID).not.toBe(inside[0]!.reconcileID);
    expect(failed[0]).toMatchObject({ key: "ns/a", reconcileID: inside[0]!.reconcileID, err: { message: "boom" } });
    ctl.abort();
  });

  it("runs different keys concurrently but never the same key twice at once", async () => {
    const running = new Set<string>();
    let maxParallel = 0;
    let overlapSameKey = false;
    const gates = new Map<string, () => void>();
    const { clock, queue, ctl } = setup(async (key) => {
      if (running.has(key)) overlapSameKey = true;
      running.add(key);
      maxParallel = Math.max(maxParallel, running.size);
      await new Promise<void>((resolve) => gates.set(key, resolve));
      running.delete(key);
      return {};
    }, 3);
    queue.add("a");
    queue.add("b");
    await clock.flush();
    queue.add("a"); // re-added while a is processing
    await clock.flush();
    expect([...running].sort()).toEqual(["a", "b"]);
    gates.get("a")!();
    await clock.flush();
    expect(running.has("a")).toBe(true); // second round of a, after the first finished
    gates.get("a")!();
    gates.get("b")!();
    await clock.flush();
    expect(overlapSameKey).toBe(false);
    expect(maxParallel).toBe(2);
    ctl.abort();
  });

  it("on abort, waits for in-flight reconciles and then stops taking keys", async () => {
    const gate = deferred();
    const started: string[] = [];
    const { clock, queue, ctl, run } = setup(async (key) => {
      started.push(key);
      if (key === "slow") await gate.promise;
      return {};
    });
    queue.add("slow");
    queue.add("queued");
    await clock.flush();
    ctl.abort();
    await clock.flush();
    expect(run.settled).toBe(false);
    gate.resolve();
    await clock.flush();
    expect(run.settled).toBe(true);
    expect(started).toEqual(["slow"]);
  });

  it("does not requeue a key whose reconcile returned no requeueAfterMs", async () => {
    let calls = 0;
    const { clock, queue, ctl } = setup(async () => {
      calls++;
      return {};
    });
    queue.add("a");
    await clock.advanceAsync(3_600_000);
    expect(calls).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
    ctl.abort();
  });

  it("recovers 200 keys within 2x a 25 s provider outage although events kept re-adding them during it", async () => {
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ clock }); // the default backoff and retry budget
    const { logger } = captureLogger();
    const ctl = new AbortController();
    const outageEndsAt = 25_000;
    const recoveredAt = new Map<string, number>();
    void runWorkers({ queue, workers: 4, logger, signal: ctl.signal, clock, reconcile: async (key) => {
      if (clock.now() < outageEndsAt) throw new Error("provider unavailable");
      if (!recoveredAt.has(key)) recoveredAt.set(key, clock.now());
      return {};
    } });
    const keys = Array.from({ length: 200 }, (_, i) => `ns/k${i}`);
    for (const k of keys) queue.add(k);
    // An agent report (or a watch event) about every key each 2 s while the provider is down;
    // after the outage nothing else happens, so only the retries can bring the keys back.
    while (clock.now() < outageEndsAt) {
      await clock.advanceAsync(2000);
      if (clock.now() < outageEndsAt) for (const k of keys) queue.add(k);
    }
    for (let i = 0; i < 300 && recoveredAt.size < keys.length; i++) await clock.advanceAsync(1000);
    expect(recoveredAt.size).toBe(keys.length);
    expect(Math.max(...recoveredAt.values()) - outageEndsAt).toBeLessThanOrEqual(2 * outageEndsAt);
    ctl.abort();
  });

  it("resumes a suspended queue with the keys it had when the term ended", async () => {
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ clock });
    const { logger } = captureLogger();
    const seen: string[] = [];
    const term1 = new AbortController();
    const gate = deferred();
    const run1 = track(runWorkers({ queue, workers: 1, keepQueue: true, logger, signal: term1.signal, clock, reconcile: async (k) => {
      seen.push(k);
      if (k === "a") await gate.promise;
      return {};
    } }));
    queue.add("a");
    queue.add("b");
    await clock.flush();
    term1.abort();
    gate.resolve();
    await clock.flush();
    expect(run1.settled).toBe(true);
    expect(seen).toEqual(["a"]);
    expect(queue.len()).toBe(1);
    queue.resume();
    const term2 = new AbortController();
    void runWorkers({ queue, workers: 1, keepQueue: true, logger, signal: term2.signal, clock, reconcile: async (k) => void seen.push(k) });
    await clock.flush();
    expect(seen).toEqual(["a", "b"]);
    term2.abort();
  });
});
