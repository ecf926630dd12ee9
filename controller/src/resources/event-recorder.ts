// Events explain what the controller did (`zlh describe` shows them). Recording is best
// effort and off the reconcile path: a slow or failing events API never blocks provisioning.
// Like client-go's EventCorrelator, a repeat of the same event (same object, type, reason
// and message) within ten minutes does not create another Event: the existing one's count
// and lastTimestamp are bumped. Sends go through a small pool (not one at a time, not
// unbounded), and messages are escaped, since some carry text from agents.
import { CoreV1Api, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { displayText } from "../plan/display-text.js";
import { API_VERSION, type ZlhResource } from "../plan/resource.js";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(obj: ZlhResource, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far was sent (tests, shutdown). */
  flush(): Promise<void>;
}

export interface ApiEventRecorderOptions {
  now?: () => Date;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Repeats within this window are counted on one Event. Default 10 minutes. */
  aggregateMs?: number;
  /** Events waiting to be sent beyond this are dropped (and counted in a log line). Default 10,000. */
  maxQueued?: number;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: Date;
  lastTimestamp: Date;
  /** Whether the Event exists in the API yet (creates still queued are updated in place). */
  created: boolean;
  /** A count update is queued and will send the latest count. */
  patchQueued: boolean;
}

/** How many series are remembered for aggregation; the oldest is forgotten beyond this. */
const MAX_SERIES = 20_000;

export function apiEventRecorder(kc: KubeConfig, logger: Logger, options: ApiEventRecorderOptions | (() => Date) = {}): EventRecorder {
  const o = typeof options === "function" ? { now: options } : options;
  const now = o.now ?? (() => new Date());
  const concurrency = o.concurrency ?? 4;
  const aggregateMs = o.aggregateMs ?? 10 * 60_000;
  const maxQueued = o.maxQueued ?? 10_000;
  const api = kc.makeApiClient(CoreV1Api);
  const series = new Map<string, Series>();
  const queue: (() => Promise<void>)[] = [];
  let running = 0;
  let dropped = 0;
  let idle: (() => void)[] = [];

  const pump = () => {
    while (running < concurrency && queue.length > 0) {
      const task = queue.shift()!;
      running++;
      void task().finally(() => {
        running--;
        pump();
      });
    }
    if (running === 0 && queue.length === 0) {
      const waiters = idle;
      idle = [];
      for (const w of waiters) w();
    }
  };
  const enqueue = (task: () => Promise<void>) => {
    if (queue.length >= maxQueued) {
      if (dropped++ % 1000 === 0) logger.warn({ dropped }, "events dropped: the events API is not keeping up");
      return;
    }
    queue.push(task);
    pump();
  };
  const warn = (reason: string) => (err: unknown) => logger.warn({ err: String(err), reason }, "event not recorded");

  return {
    record(obj, type, reason, rawMessage) {
      const message = displayText(rawMessage);
      const namespace = obj.metadata.namespace ?? "default";
      const at = now();
      const id = `${obj.metadata.uid ?? `${namespace}/${obj.metadata.name}`}\u0000${type}\u0000${reason}\u0000${message}`;
      const known = series.get(id);
      if (known && at.getTime() - known.lastTimestamp.getTime() < aggregateMs) {
        known.count += 1;
        known.lastTimestamp = at;
        if (!known.created || known.patchQueued) return; // the queued request sends the new count
        known.patchQueued = true;
        return enqueue(async () => {
          known.patchQueued = false;
          const body = { count: known.count, lastTimestamp: known.lastTimestamp };
          await api.patchNamespacedEvent({ name: known.name, namespace: known.namespace, body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)).then(() => undefined, warn(reason));
        });
      }
      const s: Series = { name: `${obj.metadata.name}.${randomBytes(6).toString("hex")}`, namespace, count: 1, firstTimestamp: at, lastTimestamp: at, created: false, patchQueued: false };
      series.delete(id);
      series.set(id, s);
      if (series.size > MAX_SERIES) series.delete(series.keys().next().value!);
      enqueue(async () => {
        const body: CoreV1Event = {
          metadata: { name: s.name, namespace },
          involvedObject: { apiVersion: API_VERSION, kind: obj.kind, name: obj.metadata.name, namespace, uid: obj.metadata.uid },
          type,
          reason,
          message,
          count: s.count,
          firstTimestamp: s.firstTimestamp,
          lastTimestamp: s.lastTimestamp,
          source: { component: "zlh-controller" },
          reportingComponent: "zlh-controller",
        };
        await api.createNamespacedEvent({ namespace, body }).then(
          () => {
            s.created = true;
            // Repeats that arrived while the create was in flight.
            if (s.count > (body.count ?? 1) && !s.patchQueued) {
              s.patchQueued = true;
              enqueue(async () => {
                s.patchQueued = false;
                await api.patchNamespacedEvent({ name: s.name, namespace, body: { count: s.count, lastTimestamp: s.lastTimestamp } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)).then(() => undefined, warn(reason));
              });
            }
          },
          (err: unknown) => {
            // Not created: the next repeat starts a new series.
            series.delete(id);
            warn(reason)(err);
          },
        );
      });
    },
    flush: () => (running === 0 && queue.length === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r))),
  };
}

export function memoryEventRecorder(): EventRecorder & { events: { name: string; type: EventType; reason: string; message: string }[] } {
  const events: { name: string; type: EventType; reason: string; message: string }[] = [];
  return {
    events,
    record(obj, type, reason, message) {
      events.push({ name: obj.metadata.name, type, reason, message: displayText(message) });
    },
    flush: async () => undefined,
  };
}
