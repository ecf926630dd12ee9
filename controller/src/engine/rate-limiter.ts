// Rate limiters decide how long a failing key waits before its next attempt.
// The shapes and defaults mirror client-go's workqueue rate limiters so that
// behaviour under failure storms is what Kubernetes operators expect.

import { realClock, type Clock } from "./clock.js";

export interface RateLimiter {
  /** Delay in ms before `key` may be processed again; counts as one more failure/request. */
  when(key: string): number;
  /** Clears the failure history of `key` (call after a success). */
  forget(key: string): void;
  /** How many times `key` has been rate limited since the last `forget`. */
  numRequeues(key: string): number;
}

/** base * 2^failures, capped: 5 ms, 10 ms, 20 ms, … up to 1000 s by default. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    // 2^exp overflows to Infinity eventually, which the cap absorbs.
    return Math.min(this.baseMs * 2 ** exp, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * Overall token bucket (not per key): protects the API server when many keys
 * fail at once. Like golang.org/x/time/rate reservations, a request always
 * takes a token, letting the balance go negative; the debt becomes the delay.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** Waits as long as the strictest limiter demands. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see the request, so no short-circuiting.
    return this.limiters.reduce((max, l) => Math.max(max, l.when(key)), 0);
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiters.reduce((max, l) => Math.max(max, l.numRequeues(key)), 0);
  }
}

/** client-go's DefaultControllerRateLimiter: per-key 5 ms→1000 s, overall 10 qps / burst 100. */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 100, clock));
}
