import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { BucketRateLimiter, ItemExponentialRateLimiter } from "../../src/engine/rate-limiter.js";
import { WorkQueue, type QueueMetrics } from "../../src/engine/workqueue.js";
import { track } from "./support/promises.js";

function newQueue(metrics?: QueueMetrics) {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(), metrics });
  return { clock, queue };
}

describe("WorkQueue", () => {
  it("hands a key queued twice out once", async () => {
    const { queue } = newQueue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe("a");
    expect(await queue.get()).toBe("b");
    expect(queue.len()).toBe(0);
  });

  it("a waiting get receives a key added later", async () => {
    const { queue, clock } = newQueue();
    const got = track(queue.get());
    await clock.flush();
    expect(got.settled).toBe(false);
    queue.add("a");
    await clock.flush();
    expect(got.value).toBe("a");
  });

  it("a key re-added while processing is handed out again only after done", async () => {
    const { queue, clock } = newQueue();
    queue.add("a");
    expect(await queue.get()).toBe("a");
    queue.add("a");
    queue.add("a");
    expect(queue.len()).toBe(0);
    const second = track(queue.get());
    await clock.flush();
    expect(second.settled).toBe(false);
    queue.done("a");
    await clock.flush();
    expect(second.value).toBe("a");
    expect(queue.len()).toBe(0);
  });

  it("never hands one key to two waiting workers at once", async () => {
    const { queue, clock } = newQueue();
    const w1 = track(queue.get());
    const w2 = track(queue.get());
    queue.add("a");
    await clock.flush();
    queue.add("a");
    await clock.flush();
    expect([w1.value, w2.value].filter((k) => k === "a")).toHaveLength(1);
    queue.add("b");
    await clock.flush();
    expect(w2.value).toBe("b");
  });

  it("done for a key that was not re-added does not hand it out again", async () => {
    const { queue, clock } = newQueue();
    queue.add("a");
    await queue.get();
    queue.done("a");
    const next = track(queue.get());
    await clock.flush();
    expect(next.settled).toBe(false);
  });

  it("addAfter makes a key available only once its delay has passed", async () => {
    const { queue, clock } = newQueue();
    queue.addAfter("a", 1000);
    clock.advance(999);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("a");
  });

  it("addAfter with an earlier time wins over a later one for the same key", () => {
    const { queue, clock } = newQueue();
    queue.addAfter("a", 1000);
    queue.addAfter("a", 300);
    clock.advance(300);
    expect(queue.len()).toBe(1);
  });

  it("addAfter with a later time does not postpone an earlier one, and the key is queued once", () => {
    const { queue, clock } = newQueue();
    queue.addAfter("a", 300);
    queue.addAfter("a", 1000);
    clock.advance(300);
    expect(queue.len()).toBe(1);
    clock.advance(2000);
    expect(queue.len()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("delayed keys become ready in order of their due times", async () => {
    const { queue, clock } = newQueue();
    queue.addAfter("late", 200);
    queue.addAfter("early", 100);
    queue.addAfter("now", 0);
    clock.advance(200);
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(["now", "early", "late"]);
  });

  it("addRateLimited backs off exponentially per key and forget resets it", () => {
    const { queue, clock } = newQueue();
    queue.addRateLimited("a"); // 5 ms
    clock.advance(4);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    queue.addRateLimited("a"); // 10 ms: the first retry came due, so this is the next one
    expect(queue.numRequeues("a")).toBe(2);
    queue.forget("a");
    expect(queue.numRequeues("a")).toBe(0);
  });

  it("keeps one retry per key: failures while it waits do not grow the backoff", () => {
    const { queue, clock } = newQueue();
    queue.addRateLimited("a"); // retry due at 5 ms
    queue.addRateLimited("a"); // an event-triggered attempt failed meanwhile
    queue.addRateLimited("a");
    expect(queue.numRequeues("a")).toBe(1);
    expect(queue.isRetrying("a")).toBe(true);
    clock.advance(5);
    expect(queue.len()).toBe(1);
    expect(queue.isRetrying("a")).toBe(false);
    queue.addRateLimited("a"); // the retry itself failed: now it doubles
    expect(queue.numRequeues("a")).toBe(2);
  });

  it("forget cancels the outstanding retry", () => {
    const { queue, clock } = newQueue();
    queue.addRateLimited("a");
    queue.forget("a");
    clock.advance(1000);
    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("charges the retry budget when a retry comes due, not when it is scheduled", () => {
    const clock = new FakeClock(0);
    const perKey = new ItemExponentialRateLimiter(5, 1_000_000);
    const queue = new WorkQueue({ clock, rateLimiter: perKey, retryBudget: new BucketRateLimiter(10, 10, clock) });
    // 100 keys deep in backoff (their 13th failure: 5 ms * 2^12 = 20 s away).
    for (let i = 0; i < 100; i++) {
      for (let f = 0; f < 12; f++) perKey.when(`k${i}`);
      queue.addRateLimited(`k${i}`);
    }
    // A fresh failure elsewhere is retried after its own 5 ms: nothing was charged yet.
    queue.addRateLimited("x");
    clock.advance(5);
    expect(queue.len()).toBe(1);
    // When the 100 come due together, the budget spreads them: 10 at once, then 10 per second.
    clock.advance(20_480 - 5);
    expect(queue.len()).toBe(1 + 10);
    clock.advance(1000);
    expect(queue.len()).toBe(1 + 20);
    clock.advance(9000);
    expect(queue.len()).toBe(101);
  });

  it("suspend hands out nothing but keeps queued and delayed keys for resume", async () => {
    const { queue, clock } = newQueue();
    const waiting = track(queue.get());
    queue.suspend();
    await clock.flush();
    expect(waiting.settled).toBe(true);
    expect(waiting.value).toBeUndefined();
    queue.add("a");
    queue.addAfter("b", 100);
    expect(await queue.get()).toBeUndefined();
    clock.advance(100);
    expect(queue.len()).toBe(2);
    queue.resume();
    expect([await queue.get(), await queue.get()]).toEqual(["a", "b"]);
  });

  it("hands out thousands of delayed keys in due order", () => {
    const { queue, clock } = newQueue();
    const n = 5000;
    for (let i = 0; i < n; i++) queue.addAfter(`k${i}`, ((i * 7919) % n) + 1);
    clock.advance(n);
    expect(queue.len()).toBe(n);
    expect(queue.delayedCount()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("reports depth, adds and retries through the metrics hooks", async () => {
    const depth: number[] = [];
    let adds = 0;
    let retries = 0;
    const latencies: number[] = [];
    const { queue, clock } = newQueue({
      setDepth: (d) => void depth.push(d),
      incAdds: () => void adds++,
      incRetries: () => void retries++,
      observeQueueLatencyMs: (ms) => void latencies.push(ms),
    });
    queue.add("a");
    queue.add("a"); // deduplicated: not an add
    queue.add("b");
    clock.advance(7);
    await queue.get();
    queue.addRateLimited("c");
    clock.advance(5);
    expect(adds).toBe(3);
    expect(retries).toBe(1);
    expect(depth).toEqual([1, 2, 1, 2]);
    expect(latencies).toEqual([7]);
  });

  it("shutDown releases waiting workers, ignores new keys and drops delayed ones", async () => {
    const { queue, clock } = newQueue();
    const waiting = track(queue.get());
    queue.addAfter("later", 100);
    queue.shutDown();
    await clock.flush();
    expect(waiting.settled).toBe(true);
    expect(waiting.value).toBeUndefined();
    queue.add("x");
    queue.addAfter("y", 1);
    clock.advance(1000);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("shutDownWithDrain hands out queued keys and resolves once all are done", async () => {
    const { queue, clock } = newQueue();
    queue.add("a");
    queue.add("b");
    expect(await queue.get()).toBe("a");
    const drained = track(queue.shutDownWithDrain());
    queue.add("c"); // ignored while draining
    expect(await queue.get()).toBe("b");
    expect(await queue.get()).toBeUndefined();
    queue.done("a");
    await clock.flush();
    expect(drained.settled).toBe(false);
    queue.done("b");
    await clock.flush();
    expect(drained.settled).toBe(true);
  });
});
