// Coalesces concurrent observe calls into one provider call. The first request goes out at
// once (no added latency when the system is quiet); requests arriving while it is in flight
// wait for it and then go out together, up to `maxBatch` keys per call. With 16 workers
// observing at the same time, one 20 ms call answers all of them.

interface Waiting<K, R> {
  keys: K[];
  resolve(results: R[]): void;
  reject(err: unknown): void;
}

export class ObserveBatcher<K, R> {
  private queue: Waiting<K, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly fetch: (keys: K[]) => Promise<R[]>,
    private readonly maxBatch = 256,
    /** Calls allowed at once; more requests wait and are merged. */
    private readonly concurrency = 1,
  ) {}

  /** Resolves with the results of the call that carried `keys` (it may hold others' results too). */
  request(keys: readonly K[]): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ keys: [...keys], resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch: Waiting<K, R>[] = [];
      let size = 0;
      while (this.queue.length > 0 && (batch.length === 0 || size + this.queue[0]!.keys.length <= this.maxBatch)) {
        const next = this.queue.shift()!;
        batch.push(next);
        size += next.keys.length;
      }
      this.inFlight++;
      const keys = batch.flatMap((w) => w.keys);
      Promise.resolve().then(() => this.fetch(keys)).then(
        (results) => {
          for (const w of batch) w.resolve(results);
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
        },
      ).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}
