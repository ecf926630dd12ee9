// An injected clock for provider tests: every sleep returns at once (after a macrotask, so
// other I/O proceeds), moves time forward by the requested amount and is recorded, so tests
// can assert the exact backoff and Retry-After waits without waiting for them.
import { FakeClock } from "../../src/engine/clock.js";

export class AutoAdvanceClock extends FakeClock {
  /** Every sleep requested, in order, in milliseconds. */
  readonly sleeps: number[] = [];

  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    await new Promise<void>((r) => setImmediate(r));
    this.advance(ms);
  }
}
