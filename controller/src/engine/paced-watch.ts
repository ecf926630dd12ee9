// client-node's ListWatch re-opens a watch immediately whenever the previous
// one ends cleanly, with no backoff: a proxy or server that closes watches
// right after accepting them turns that into a request hot loop. ListWatch
// also cannot cancel a watch that is still connecting when stop() is called.
// Putting this in front of its Watch fixes both without forking ListWatch.

import { ListWatch, type KubernetesObject, type Watch } from "@kubernetes/client-node";
import type { Clock } from "./clock.js";
import type { InformerFactory, UnderlyingInformer } from "./informer.js";

type WatchFn = Watch["watch"];

export class PacedWatch {
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly closing = new AbortController();

  constructor(
    private readonly inner: { watch: WatchFn },
    private readonly clock: Clock,
    private readonly minIntervalMs = 1000,
  ) {}

  /** Same contract as client-node's Watch.watch, but at most one start per `minIntervalMs`. */
  async watch(...args: Parameters<WatchFn>): Promise<AbortController> {
    const now = this.clock.now();
    const startAt = Math.max(now, this.lastStartAt + this.minIntervalMs);
    this.lastStartAt = startAt;
    if (startAt > now) await this.clock.sleep(startAt - now, this.closing.signal);
    // Closed while waiting: hand back a dead request and never call `done`,
    // so the stopped ListWatch simply stays idle.
    if (this.closed) return aborted();
    const controller = await this.inner.watch(...args);
    if (this.closed) controller.abort();
    return controller;
  }

  /** Aborts a connecting watch once it connects and refuses new ones. Final. */
  close(): void {
    this.closed = true;
    this.closing.abort();
  }
}

function aborted(): AbortController {
  const c = new AbortController();
  c.abort();
  return c;
}

/**
 * Builds what client-node's makeInformer builds (a ListWatch that does not
 * auto-start), but over a PacedWatch that its stop() also closes.
 */
export function pacedListWatchFactory<T extends KubernetesObject>(
  watch: { watch: WatchFn },
  clock: Clock,
  minIntervalMs = 1000,
): InformerFactory<T> {
  return (path, listFn, labelSelector): UnderlyingInformer<T> => {
    const paced = new PacedWatch(watch, clock, minIntervalMs);
    const listWatch = new ListWatch<T>(path, paced as unknown as Watch, listFn, false, labelSelector);
    const stop = listWatch.stop.bind(listWatch);
    listWatch.stop = async () => {
      paced.close();
      await stop();
    };
    return listWatch;
  };
}
