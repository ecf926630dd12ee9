// Recent store events kept in memory so a watch can resume from a resourceVersion instead
// of relisting. Bounded: older versions answer "expired" (HTTP 410) and the client relists,
// which is the Kubernetes contract, so nothing is lost by keeping this small or by a restart.
import type { StoreEvent } from "./store.js";

/**
 * Result of asking for the events after a resourceVersion: the retained events, or
 * `expired` when that version is older than the history window (or not one this
 * store ever issued), in which case the caller must relist.
 */
export type HistoryResult = { expired: false; events: StoreEvent[] } | { expired: true; oldest: number };

export class WatchHistory {
  private readonly ring: (StoreEvent | undefined)[];
  private start = 0;
  private size = 0;
  /** Every version up to and including this one is no longer retained. */
  private compactedThrough: number;
  /**
   * The same per resource: a watch on one resource stays resumable while only other
   * resources' events (say, a burst of Events) have fallen out of the ring.
   */
  private readonly compactedByResource = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly startResourceVersion: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`watch history capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<StoreEvent | undefined>(capacity);
    this.compactedThrough = startResourceVersion;
  }

  push(event: StoreEvent): void {
    if (this.size === this.capacity) {
      const evicted = this.ring[this.start]!;
      this.compactedThrough = evicted.resourceVersion;
      this.compactedByResource.set(evicted.resource, evicted.resourceVersion);
      this.ring[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
      return;
    }
    this.ring[(this.start + this.size) % this.capacity] = event;
    this.size++;
  }

  /**
   * Events after `after` (of `resource` only, when given), or expired when `after` predates
   * the retained window or is ahead of `current`.
   */
  since(after: number, current: number, resource?: string): HistoryResult {
    const compacted = resource === undefined ? this.compactedThrough : (this.compactedByResource.get(resource) ?? this.startResourceVersion);
    if (after < compacted || after > current) return { expired: true, oldest: compacted };
    // Versions rise monotonically around the ring, so binary search for the first newer one.
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).resourceVersion <= after) lo = mid + 1;
      else hi = mid;
    }
    const events: StoreEvent[] = [];
    for (let i = lo; i < this.size; i++) {
      const e = this.at(i);
      if (resource === undefined || e.resource === resource) events.push(e);
    }
    return { expired: false, events };
  }

  private at(i: number): StoreEvent {
    return this.ring[(this.start + i) % this.capacity]!;
  }
}
