import { describe, expect, it } from "vitest";
import { FakeClock, realClock } from "../../src/engine/clock.js";

describe("FakeClock", () => {
  it("fires due timers in due-time order and leaves later ones pending", () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("b@20"), 20);
    clock.setTimeout(() => fired.push("a@10"), 10);
    clock.setTimeout(() => fired.push("c@30"), 30);
    clock.advance(25);
    expect(fired).toEqual(["a@10", "b@20"]);
    expect(clock.now()).toBe(25);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(30);
  });

  it("fires timers with the same due time in creation order", () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    for (const n of [1, 2, 3]) clock.setTimeout(() => fired.push(n), 5);
    clock.advance(5);
    expect(fired).toEqual([1, 2, 3]);
  });

  it("runs a timer scheduled by a callback when it falls inside the advanced window, at its own time", () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 10), 10);
    clock.advance(30);
    expect(seen).toEqual([20]);
  });

  it("never fires a cleared timer", () => {
    const clock = new FakeClock(0);
    let fired = false;
    const h = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(h);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("sleep resolves early when its signal aborts and cancels its timer", async () => {
    const clock = new FakeClock(0);
    const ctl = new AbortController();
    let done = false;
    const p = clock.sleep(1000, ctl.signal).then(() => (done = true));
    await clock.flush();
    expect(done).toBe(false);
    ctl.abort();
    await p;
    expect(done).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("advanceAsync lets async loops schedule and run their follow-up timers", async () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        ticks.push(clock.now());
      }
    })();
    await clock.advanceAsync(250);
    expect(ticks).toEqual([100, 200]);
    await clock.advanceAsync(50);
    expect(ticks).toEqual([100, 200, 300]);
  });
});

describe("realClock", () => {
  it("clamps delays beyond Node's 32-bit timer limit instead of firing immediately", () => {
    let fired = false;
    const h = realClock.setTimeout(() => (fired = true), 2 ** 33);
    // Node would coerce an overflowing delay to 1 ms; clamped, it stays pending.
    const timeout = h as unknown as { _idleTimeout: number };
    expect(timeout._idleTimeout).toBe(2_147_483_647);
    realClock.clearTimeout(h);
    expect(fired).toBe(false);
  });
});
