// Time is injected everywhere in the engine so that backoff, delayed requeues,
// lease expiry and resync can be tested deterministically with FakeClock
// instead of sleeping in tests.

declare const timerBrand: unique symbol;
/** Opaque handle returned by `Clock.setTimeout`; only meaningful to the clock that made it. */
export type TimerHandle = { readonly [timerBrand]: true };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /**
   * Resolves after `ms`, or as soon as `signal` aborts. It never rejects:
   * loops check `signal.aborted` afterwards, which keeps shutdown paths free of
   * unhandled rejections.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// Node fires a timer after 1 ms when the delay exceeds a signed 32-bit int,
// which would turn a very long requeue into a hot loop.
const MAX_NODE_DELAY_MS = 2_147_483_647;

function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) =>
    setTimeout(fn, Math.min(Math.max(0, ms), MAX_NODE_DELAY_MS)) as unknown as TimerHandle,
  clearTimeout: (handle) => {
    if (handle !== undefined) clearTimeout(handle as unknown as NodeJS.Timeout);
  },
  sleep: (ms, signal) => sleepOn(realClock, ms, signal),
};

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A manually driven clock. Timers fire in due-time order (ties in creation
 * order) and only when the test advances time.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return { id: timer.id } as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const id = (handle as unknown as { id: number }).id;
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Moves time forward, firing every timer that becomes due, synchronously. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let t = this.takeDue(target); t; t = this.takeDue(target)) {
      this.current = t.at;
      t.fn();
    }
    this.current = target;
  }

  /**
   * Like `advance`, but lets pending promise chains settle before and after
   * each timer, so async code that schedules follow-up timers (retry loops,
   * renewals) keeps up with the fake time.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.current + ms;
    await this.flush();
    for (let t = this.takeDue(target); t; t = this.takeDue(target)) {
      this.current = t.at;
      t.fn();
      await this.flush();
    }
    this.current = target;
    await this.flush();
  }

  /** Lets every queued promise continuation run without moving time. */
  async flush(): Promise<void> {
    // A macrotask boundary drains the whole microtask queue, including chains
    // scheduled while draining; two rounds cover a continuation that itself
    // defers via setImmediate.
    for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Due time of the earliest pending timer, if any. */
  nextTimerAt(): number | undefined {
    return this.timers.reduce<number | undefined>((m, t) => (m === undefined || t.at < m ? t.at : m), undefined);
  }

  private takeDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= target && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    if (best) this.timers = this.timers.filter((t) => t !== best);
    return best;
  }
}
