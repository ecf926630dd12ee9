import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from "../../src/engine/rate-limiter.js";

describe("ItemExponentialRateLimiter", () => {
  it("doubles from 5 ms per failure and caps at 1000 s", () => {
    const rl = new ItemExponentialRateLimiter();
    const delays = Array.from({ length: 22 }, () => rl.when("k"));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    // 5 ms * 2^17 = 655.36 s is the last uncapped step; 2^18 would be 1310.72 s.
    expect(delays[17]).toBe(655_360);
    expect(delays.slice(18)).toEqual([1_000_000, 1_000_000, 1_000_000, 1_000_000]);
    expect(rl.numRequeues("k")).toBe(22);
  });

  it("stays at the cap instead of overflowing after very many failures", () => {
    const rl = new ItemExponentialRateLimiter();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = rl.when("k");
    expect(last).toBe(1_000_000);
  });

  it("forget resets a key to the base delay without touching other keys", () => {
    const rl = new ItemExponentialRateLimiter();
    rl.when("a");
    rl.when("a");
    rl.when("b");
    rl.forget("a");
    expect(rl.numRequeues("a")).toBe(0);
    expect(rl.when("a")).toBe(5);
    expect(rl.when("b")).toBe(10);
  });
});

describe("BucketRateLimiter", () => {
  it("lets a burst through immediately, then spaces requests at 1/qps", () => {
    const clock = new FakeClock(0);
    const rl = new BucketRateLimiter(10, 100, clock);
    const burst = Array.from({ length: 100 }, (_, i) => rl.when(`k${i}`));
    expect(burst.every((d) => d === 0)).toBe(true);
    expect(rl.when("x")).toBe(100);
    expect(rl.when("y")).toBe(200);
  });

  it("refills tokens with time, up to the burst size", () => {
    const clock = new FakeClock(0);
    const rl = new BucketRateLimiter(10, 5, clock);
    for (let i = 0; i < 5; i++) rl.when("k");
    expect(rl.when("k")).toBe(100);
    clock.advance(60_000); // would be 600 tokens without the burst cap
    for (let i = 0; i < 5; i++) expect(rl.when("k")).toBe(0);
    expect(rl.when("k")).toBe(100);
  });
});

describe("MaxOfRateLimiter", () => {
  it("waits as long as the strictest limiter and forgets in all of them", () => {
    const clock = new FakeClock(0);
    const rl = new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 1, clock));
    expect(rl.when("k")).toBe(5); // bucket has a token; item backoff rules
    expect(rl.when("k")).toBe(100); // bucket empty: 100 ms beats the 10 ms item backoff
    expect(rl.numRequeues("k")).toBe(2);
    rl.forget("k");
    expect(rl.numRequeues("k")).toBe(0);
  });

  it("the default controller limiter starts at 5 ms per key", () => {
    const rl = defaultControllerRateLimiter(new FakeClock(0));
    expect([rl.when("a"), rl.when("a"), rl.when("b")]).toEqual([5, 10, 5]);
  });
});
