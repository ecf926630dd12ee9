import type { V1Lease } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { LeaseElector, type LeaseElectorOptions } from "../../src/engine/lease-elector.js";
import { LeaseStore, leaseClient } from "./support/lease-store.js";
import { deferred, track } from "./support/promises.js";

const NS = "zlh-system";
const NAME = "zlh-controller";

function candidate(
  store: LeaseStore,
  clock: FakeClock,
  identity: string,
  opts: Partial<LeaseElectorOptions> & { work?: (signal: AbortSignal) => Promise<void> } = {},
) {
  const client = leaseClient(store);
  const events: string[] = [];
  const signals: AbortSignal[] = [];
  const elector = new LeaseElector({
    client,
    namespace: NS,
    name: NAME,
    identity,
    clock,
    random: () => 0,
    callbacks: {
      onStartedLeading: (signal) => {
        events.push("started");
        signals.push(signal);
        return opts.work?.(signal);
      },
      onStoppedLeading: () => void events.push("stopped"),
      onNewLeader: (id) => void events.push(`leader ${id}`),
    },
    ...opts,
  });
  const run = track(elector.run());
  return { elector, client, events, signals, run };
}

function holder(store: LeaseStore): string | undefined {
  return store.current()?.spec?.holderIdentity;
}

function seedLease(store: LeaseStore, spec: NonNullable<V1Lease["spec"]>): void {
  store.seed({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { namespace: NS, name: NAME }, spec });
}

describe("LeaseElector", () => {
  it("acquires a free lease by creating it with microsecond timestamps, then starts leading", async () => {
    const clock = new FakeClock(1_700_000_000_123);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a");
    await clock.flush();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(["leader a", "started"]);
    const spec = store.current()!.spec!;
    expect(spec).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(spec.renewTime).toBe("2023-11-14T22:13:20.123000Z");
    expect(spec.acquireTime).toBe("2023-11-14T22:13:20.123000Z");
    await a.elector.stop();
  });

  it("renews the lease every retryPeriod while leading, keeping its acquireTime", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a");
    await clock.flush();
    const first = store.current()!.spec!;
    await clock.advanceAsync(2000);
    const second = store.current()!.spec!;
    expect(Date.parse(String(second.renewTime)) - Date.parse(String(first.renewTime))).toBe(2000);
    expect(second.acquireTime).toBe(first.acquireTime);
    await clock.advanceAsync(6000);
    expect(store.writes).toHaveLength(5);
    await a.elector.stop();
  });

  it("a follower does not take over while the holder keeps renewing", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a");
    await clock.flush();
    const b = candidate(store, clock, "b");
    await clock.advanceAsync(120_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe("a");
    expect(b.events).toEqual(["leader a"]);
    expect(holder(store)).toBe("a");
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it("takes over a lease not renewed for leaseDuration on the local clock, ignoring the remote renewTime", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    // A renewTime far in the past must not matter: the holder's clock may be off.
    seedLease(store, {
      holderIdentity: "crashed",
      leaseDurationSeconds: 15,
      leaseTransitions: 3,
      renewTime: "2000-01-01T00:00:00.000000Z" as never,
      acquireTime: "2000-01-01T00:00:00.000000Z" as never,
    });
    const b = candidate(store, clock, "b");
    await clock.advanceAsync(15_999); // retries at 2 s steps; 14 s < 15 s since first seen
    expect(b.elector.isLeader()).toBe(false);
    expect(b.events).toEqual(["leader crashed"]);
    await clock.advanceAsync(1); // the attempt at 16 s
    expect(b.elector.isLeader()).toBe(true);
    expect(store.current()!.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 4 });
    expect(b.events).toEqual(["leader crashed", "leader b", "started"]);
    await b.elector.stop();
  });

  it("of two candidates creating the lease at once, the one that gets a conflict does not lead", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const bothAsked = deferred();
    let asked = 0;
    const barrier = async (): Promise<void> => {
      if (++asked === 2) bothAsked.resolve();
      await bothAsked.promise;
    };
    const a = candidate(store, clock, "a", { client: withBarrier(store, barrier) });
    const b = candidate(store, clock, "b", { client: withBarrier(store, barrier) });
    await clock.flush();
    const leaders = [a, b].filter((c) => c.elector.isLeader());
    expect(leaders).toHaveLength(1);
    const winner = leaders[0]!;
    const loser = winner === a ? b : a;
    expect(store.writes).toHaveLength(1);
    expect(loser.events).toEqual([]);
    await clock.advanceAsync(2000);
    expect(loser.elector.isLeader()).toBe(false);
    expect(loser.elector.getLeader()).toBe(holder(store));
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it("of two candidates taking over one expired lease at the same instant, exactly one wins", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    seedLease(store, { holderIdentity: "crashed", leaseDurationSeconds: 15 });
    let waiting: Array<() => void> = [];
    const barrier = (): Promise<void> =>
      new Promise((resolve) => {
        waiting.push(resolve);
        if (waiting.length === 2) {
          for (const w of waiting) w();
          waiting = [];
        }
      });
    const a = candidate(store, clock, "a", { client: withBarrier(store, barrier) });
    const b = candidate(store, clock, "b", { client: withBarrier(store, barrier) });
    await clock.advanceAsync(16_000);
    expect([a, b].filter((c) => c.elector.isLeader())).toHaveLength(1);
    expect(store.current()!.spec!.leaseTransitions).toBe(1);
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it("never has two leaders at any fake time when the leader is cut off from the API server", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a");
    await clock.flush();
    const b = candidate(store, clock, "b");
    let aSteppedDownAt: number | undefined;
    let bLeadsAt: number | undefined;
    for (let t = 0; t < 60_000; t += 100) {
      if (t === 5000) a.client.controls.partitioned = true;
      await clock.advanceAsync(100);
      const leaders = [a, b].filter((c) => c.elector.isLeader()).length;
      expect(leaders).toBeLessThanOrEqual(1);
      if (!a.elector.isLeader()) aSteppedDownAt ??= clock.now();
      if (b.elector.isLeader()) bLeadsAt ??= clock.now();
    }
    // last renewal at 4 s; renewDeadline 10 s; b waits 15 s from seeing that renewal
    expect(aSteppedDownAt).toBe(14_000);
    expect(bLeadsAt).toBeGreaterThanOrEqual(19_000);
    expect(a.events).toEqual(["leader a", "started", "stopped"]);
    expect(a.signals[0]!.aborted).toBe(true);
    expect(a.run.settled).toBe(true);
    await b.elector.stop();
  });

  it("steps down at renewDeadline even while its renewal request hangs", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a");
    await clock.flush();
    a.client.controls.hanging = true;
    await clock.advanceAsync(9_999);
    expect(a.elector.isLeader()).toBe(true);
    await clock.advanceAsync(1);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.signals[0]!.aborted).toBe(true);
    expect(a.run.settled).toBe(true);
  });

  it("steps down at once when the lease shows another holder", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a");
    await clock.flush();
    seedLease(store, { holderIdentity: "intruder", leaseDurationSeconds: 15 });
    await clock.advanceAsync(2000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(["leader a", "started", "leader intruder", "stopped"]);
  });

  it("without releaseOnCancel, a stopped leader's lease is only taken over after it expires", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a");
    await clock.flush();
    const b = candidate(store, clock, "b");
    await clock.advanceAsync(1000);
    await a.elector.stop();
    expect(a.events).toEqual(["leader a", "started", "stopped"]);
    expect(holder(store)).toBe("a");
    await clock.advanceAsync(14_000);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advanceAsync(4000);
    expect(b.elector.isLeader()).toBe(true);
    await b.elector.stop();
  });

  it("with releaseOnCancel, stop hands the lease over so a follower takes over within a retry period", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a", { releaseOnCancel: true });
    await clock.flush();
    const b = candidate(store, clock, "b");
    await clock.advanceAsync(1000);
    await a.elector.stop();
    expect(store.current()!.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    await clock.advanceAsync(2000);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.current()!.spec).toMatchObject({ holderIdentity: "b", leaseDurationSeconds: 15 });
    await b.elector.stop();
  });

  it("releases only after the leader work has finished", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a", {
      releaseOnCancel: true,
      work: async (signal) => {
        await new Promise<void>((r) => signal.addEventListener("abort", () => r()));
        await clock.sleep(3000); // draining in-flight reconciles
      },
    });
    await clock.flush();
    const stopped = track(a.elector.stop());
    await clock.advanceAsync(2999);
    expect(holder(store)).toBe("a");
    expect(stopped.settled).toBe(false);
    await clock.advanceAsync(1);
    expect(holder(store)).toBe("");
    expect(stopped.settled).toBe(true);
  });

  it("does not release if the leader work outlives the renew deadline", async () => {
    const clock = new FakeClock(0);
    const store = new LeaseStore();
    const a = candidate(store, clock, "a", { releaseOnCancel: true, work: () => new Promise<void>(() => {}) });
    await clock.flush();
    const stopped = track(a.elector.stop());
    await clock.advanceAsync(10_000);
    expect(stopped.settled).toBe(true);
    expect(holder(store)).toBe("a");
    expect(store.writes).toHaveLength(1);
  });

  it("rejects timings where the renew deadline is not shorter than the lease duration", () => {
    const store = new LeaseStore();
    const make = () =>
      new LeaseElector({
        client: leaseClient(store),
        namespace: NS,
        name: NAME,
        identity: "a",
        leaseDurationMs: 10_000,
        renewDeadlineMs: 10_000,
        callbacks: { onStartedLeading: () => {} },
      });
    expect(make).toThrow(RangeError);
  });
});

function withBarrier(store: LeaseStore, barrier: () => Promise<void>) {
  const client = leaseClient(store);
  client.controls.beforeGet = barrier;
  return client;
}
