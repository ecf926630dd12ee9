import type { KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { ResilientInformer, type InformerFactory } from "../../src/engine/informer.js";
import { pacedListWatchFactory } from "../../src/engine/paced-watch.js";
import { ItemExponentialRateLimiter } from "../../src/engine/rate-limiter.js";
import { FakeWatch } from "./support/fake-watch.js";
import { deferred, track } from "./support/promises.js";

type Obj = KubernetesObject;

function obj(name: string, rv: string, namespace = "default"): Obj {
  return { apiVersion: "zerolaghub.dev/v1alpha1", kind: "GameServer", metadata: { name, namespace, resourceVersion: rv } };
}

/** A list endpoint whose answers the test scripts: an Error fails that call. */
class FakeList {
  calls = 0;
  script: Array<KubernetesListObject<Obj> | Error | Promise<KubernetesListObject<Obj>>> = [];
  fallback: KubernetesListObject<Obj> = { metadata: { resourceVersion: "1" }, items: [] };
  fn = async (): Promise<KubernetesListObject<Obj>> => {
    this.calls++;
    const next = this.script.shift() ?? this.fallback;
    if (next instanceof Error) throw next;
    return next;
  };
}

function setup(opts: { resyncMs?: number; healthyResetMs?: number } = {}) {
  const clock = new FakeClock(0);
  const watch = new FakeWatch();
  const list = new FakeList();
  let created = 0;
  // The production factory: client-node's real ListWatch, here over a fake Watch.
  const paced = pacedListWatchFactory<Obj>(watch, clock);
  const factory: InformerFactory<Obj> = (path, listFn, selector) => {
    created++;
    return paced(path, listFn, selector);
  };
  const informer = new ResilientInformer<Obj>({
    path: "/apis/zerolaghub.dev/v1alpha1/gameservers",
    listFn: list.fn,
    factory,
    clock,
    resyncMs: opts.resyncMs ?? 0,
    healthyResetMs: opts.healthyResetMs,
    restartBackoff: new ItemExponentialRateLimiter(1000, 30_000),
  });
  const events: string[] = [];
  informer.on("add", (o) => events.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`));
  informer.on("update", (o) => events.push(`update ${o.metadata?.name}@${o.metadata?.resourceVersion}`));
  informer.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
  return { clock, watch, list, informer, events, createdCount: () => created };
}

const socketReset = (): Error => Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });

describe("ResilientInformer", () => {
  it("resolves start only after a list succeeded, retrying failed lists with growing backoff", async () => {
    const { clock, list, informer, events } = setup();
    list.script = [new Error("503"), new Error("503"), { metadata: { resourceVersion: "7" }, items: [obj("mc1", "5")] }];
    const started = track(informer.start());
    await clock.flush();
    expect(list.calls).toBe(1);
    expect(started.settled).toBe(false);
    expect(informer.hasSynced()).toBe(false);
    await clock.advanceAsync(999);
    expect(list.calls).toBe(1);
    await clock.advanceAsync(1); // 1 s backoff
    expect(list.calls).toBe(2);
    await clock.advanceAsync(1999);
    expect(list.calls).toBe(2);
    await clock.advanceAsync(1); // 2 s backoff
    expect(list.calls).toBe(3);
    expect(started.settled).toBe(true);
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(["add mc1@5"]);
    expect(informer.get("default", "mc1")?.metadata?.resourceVersion).toBe("5");
    await informer.stop();
  });

  it("restarts a watch that failed with a socket reset, resuming from the last resourceVersion without relisting", async () => {
    const { clock, watch, list, informer, events } = setup();
    list.script = [{ metadata: { resourceVersion: "10" }, items: [obj("mc1", "9")] }];
    await informer.start();
    expect(watch.sessions).toHaveLength(1);
    expect(watch.last().params.resourceVersion).toBe("10");
    watch.last().emit("MODIFIED", obj("mc1", "11"));
    watch.last().end(socketReset());
    await clock.advanceAsync(999);
    expect(watch.sessions).toHaveLength(1);
    await clock.advanceAsync(1);
    expect(watch.sessions).toHaveLength(2);
    expect(watch.last().params.resourceVersion).toBe("11");
    expect(list.calls).toBe(1);
    watch.last().emit("ADDED", obj("mc2", "12"));
    expect(events).toEqual(["add mc1@9", "update mc1@11", "add mc2@12"]);
    expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(["mc1", "mc2"]);
    await informer.stop();
  });

  it("keeps restarting with doubling delays while the watch keeps failing to connect (e.g. 401)", async () => {
    const { clock, watch, informer } = setup();
    await informer.start();
    const connectTimes: number[] = [];
    const unauthorized = Object.assign(new Error("Unauthorized"), { statusCode: 401 });
    for (let i = 0; i < 4; i++) {
      watch.failNextConnect = unauthorized;
      if (i === 0) watch.last().end(unauthorized);
      const before = watch.sessions.length;
      while (watch.sessions.length === before) await clock.advanceAsync(100);
      connectTimes.push(clock.now());
    }
    // failures at t=0, then reconnects after 1 s, 2 s, 4 s, 8 s (100 ms granularity)
    expect(connectTimes).toEqual([1000, 3000, 7000, 15_000]);
    await informer.stop();
  });

  it("stop while the watch is still connecting closes that watch once it connects", async () => {
    const { clock, watch, informer } = setup();
    const gate = deferred();
    const realWatch = watch.watch.bind(watch);
    watch.watch = async (...args) => {
      await gate.promise;
      return realWatch(...args);
    };
    void informer.start();
    await clock.flush();
    await informer.stop();
    gate.resolve();
    await clock.advanceAsync(60_000);
    expect(watch.sessions).toHaveLength(1);
    expect(watch.last().ended).toBe(true);
  });

  it("re-opens a watch that the server keeps closing cleanly at most once per second, not in a hot loop", async () => {
    const { clock, watch, informer } = setup();
    await informer.start();
    const startedAt: number[] = [];
    for (let i = 0; i < 4; i++) {
      watch.last().end(null);
      await clock.flush();
      while (watch.sessions.length === i + 1) await clock.advanceAsync(100);
      startedAt.push(clock.now());
    }
    expect(startedAt).toEqual([1000, 2000, 3000, 4000]);
    await informer.stop();
  });

  it("a deliberate stop is not treated as a failure: no restart and no timers left", async () => {
    const { clock, watch, informer } = setup({ resyncMs: 60_000 });
    await informer.start();
    await informer.stop();
    await clock.advanceAsync(10 * 60_000);
    expect(watch.sessions).toHaveLength(1);
    expect(watch.last().ended).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("stop during an in-flight list does not open a watch afterwards", async () => {
    const { clock, watch, list, informer } = setup();
    const slowList = deferred<KubernetesListObject<Obj>>();
    list.script = [slowList.promise];
    const started = track(informer.start());
    await clock.flush();
    await informer.stop();
    slowList.resolve({ metadata: { resourceVersion: "3" }, items: [obj("mc1", "2")] });
    await clock.advanceAsync(60_000);
    expect(watch.sessions).toHaveLength(0);
    expect(started.settled).toBe(true);
    expect(informer.hasSynced()).toBe(false);
  });

  it("replays every cached object as an update each resync period", async () => {
    const { clock, list, informer, events } = setup({ resyncMs: 600_000 });
    list.script = [{ metadata: { resourceVersion: "3" }, items: [obj("a", "1"), obj("b", "2")] }];
    await informer.start();
    events.length = 0;
    await clock.advanceAsync(599_999);
    expect(events).toEqual([]);
    await clock.advanceAsync(1);
    expect(events.sort()).toEqual(["update a@1", "update b@2"]);
    await clock.advanceAsync(600_000);
    expect(events).toHaveLength(4);
    await informer.stop();
  });

  it("resets the restart backoff after the watch ran healthy for healthyResetMs", async () => {
    const { clock, watch, informer } = setup({ healthyResetMs: 60_000 });
    await informer.start();
    const restartDelay = async (): Promise<number> => {
      const before = watch.sessions.length;
      const failedAt = clock.now();
      watch.last().end(socketReset());
      while (watch.sessions.length === before) await clock.advanceAsync(500);
      return clock.now() - failedAt;
    };
    expect(await restartDelay()).toBe(1000);
    expect(await restartDelay()).toBe(2000);
    await clock.advanceAsync(60_000);
    expect(await restartDelay()).toBe(1000);
    await informer.stop();
  });

  it("reports objects deleted during an outage once the relist after a 410 completes", async () => {
    const { watch, list, informer, events } = setup();
    list.script = [
      { metadata: { resourceVersion: "3" }, items: [obj("a", "1"), obj("b", "2")] },
      { metadata: { resourceVersion: "9" }, items: [obj("a", "1")] },
    ];
    await informer.start();
    watch.last().emit("ERROR", { code: 410 });
    watch.last().end(null); // server closes the expired watch; ListWatch relists
    await new Promise<void>((r) => setImmediate(r));
    expect(list.calls).toBe(2);
    expect(events).toContain("delete b");
    expect(informer.get("default", "b")).toBeUndefined();
    await informer.stop();
  });

  it("a throwing handler neither hides the event from other handlers nor breaks the informer", async () => {
    const { watch, informer } = setup();
    const seen: string[] = [];
    informer.on("add", () => {
      throw new Error("handler bug");
    });
    informer.on("add", (o) => seen.push(o.metadata!.name!));
    await informer.start();
    watch.last().emit("ADDED", obj("x", "4"));
    watch.last().emit("ADDED", obj("y", "5"));
    expect(seen).toEqual(["x", "y"]);
    expect(informer.list()).toHaveLength(2);
    await informer.stop();
  });

  it("can be started again after stop, ignoring late events of the previous run", async () => {
    const { watch, informer, events, createdCount } = setup();
    await informer.start();
    const old = watch.last();
    await informer.stop();
    await informer.start();
    expect(createdCount()).toBe(2);
    expect(watch.sessions).toHaveLength(2);
    events.length = 0;
    old.emit("ADDED", obj("ghost", "1"));
    watch.last().emit("ADDED", obj("real", "2"));
    expect(events).toEqual(["add real@2"]);
    await informer.stop();
  });
});
