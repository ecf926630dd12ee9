// Serializes read-modify-write cycles on one backend object (a zone file, a workload root),
// so two concurrent calls in this process never overwrite each other's change.

export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier `run` has settled; a failure does not block later callers. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
