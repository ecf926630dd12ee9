// Events are capped per namespace and in total: a controller emitting events for 10,000
// objects (or 1,000 namespaces of them) must not grow the store without bound. Counting
// happens in memory and pruning in batches: once a cap is crossed, the oldest events go
// until a tenth of the cap is free, so one prune pays for many creates instead of a count
// query and a delete after every one.
import type { Logger } from "pino";
import type { Store } from "../store/store.js";

export interface EventLimits {
  perNamespace: number;
  total: number;
}

export class EventRetention {
  private readonly counts = new Map<string, number>();
  private total: number | undefined;
  private pruning = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly resource: string,
    private readonly limits: EventLimits,
    private readonly logger: Logger,
  ) {}

  /** Called after each stored event; prunes (in the background of the request) when a cap is crossed. */
  async created(namespace: string): Promise<void> {
    // Counts start from the store (which already holds the new event), then move in memory.
    const known = this.counts.get(namespace);
    const inNamespace = known === undefined ? await this.store.count(this.resource, namespace) : known + 1;
    this.counts.set(namespace, inNamespace);
    this.total = this.total === undefined ? await this.store.count(this.resource) : this.total + 1;
    if (inNamespace > this.limits.perNamespace) this.schedule(this.limits.perNamespace, namespace);
    if (this.total > this.limits.total) this.schedule(this.limits.total, undefined);
    await this.pruning;
  }

  /** Called after an event was deleted by a request. */
  deleted(namespace: string): void {
    const known = this.counts.get(namespace);
    if (known !== undefined) this.counts.set(namespace, known - 1);
    if (this.total !== undefined) this.total -= 1;
  }

  /** Forgets counts; they are read from the store again when needed. */
  reset(): void {
    this.counts.clear();
    this.total = undefined;
  }

  private schedule(cap: number, namespace: string | undefined): void {
    const keep = cap - Math.max(1, Math.floor(cap / 10));
    this.pruning = this.pruning.then(async () => {
      try {
        const removed = await this.store.pruneOldest(this.resource, keep, namespace);
        this.reset();
        if (removed > 0) this.logger.debug({ resource: this.resource, namespace, removed }, "events pruned");
      } catch (err) {
        this.logger.warn({ err, resource: this.resource, namespace }, "pruning events failed");
      }
    });
  }
}
