// `?watch=true` streams: one JSON event per line, resumable from a resourceVersion through
// the store's watch. Each watch ends cleanly after a jittered lifetime so clients re-watch
// (spreading reconnects). Memory is bounded twice: a watch whose consumer stops reading is
// cut off once its own queue is full, and when all watches together queue more than a
// global cap the slowest are cut off first. Each change is encoded once, however many
// watches it goes to.
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Clock, TimerHandle } from "../engine/clock.js";
import { matchesLabels, type LabelSelector } from "../store/label-selector.js";
import { StoreError, type Store, type StoreEvent, type StoredObject, type StoreWatch } from "../store/store.js";
import { ApiError, apiErrors } from "./api-error.js";
import { matchesFields, type FieldRequirement } from "./field-selector.js";
import type { ResourceType } from "./resource-types.js";
import { toTable, type IncludeObject } from "./table.js";

export interface WatchSettings {
  maxWatchSeconds: number;
  bookmarkSeconds: number;
  /** Bytes one watch may have queued in its socket before it is closed. */
  bufferBytes: number;
  /** Bytes all watches together may have queued; past it the watches with the most queued are closed. */
  totalBufferBytes: number;
  clock: Clock;
  random: () => number;
}

export interface WatchScope {
  type: ResourceType;
  /** Omit for every namespace. */
  namespace?: string;
  labelSelector: LabelSelector;
  fields: FieldRequirement[];
  /** Table rows instead of objects (kubectl get -w), with what each row embeds. */
  table?: IncludeObject;
  /** The `resourceVersion` query parameter as sent. */
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
}

type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

interface OpenWatch {
  scope: WatchScope;
  /** Bytes this watch had queued at its last write. */
  queued: number;
  end(reason?: string): void;
}

// Grace for a consumer that was cut off to read what is queued before its socket is dropped.
const OVERFLOW_GRACE_MS = 60_000;

const line = (type: string, objectJson: string): Buffer => Buffer.from(`{"type":"${type}","object":${objectJson}}\n`);

export class WatchHub {
  private readonly open = new Set<OpenWatch>();
  private queuedTotal = 0;
  // Encoded lines per change, shared by every watch it goes to.
  private readonly encoded = new WeakMap<StoreEvent, Map<string, Buffer>>();
  private closedSlow = 0;

  constructor(
    private readonly store: Store,
    private readonly settings: WatchSettings,
    private readonly logger: Logger,
  ) {}

  /** Number of watches currently streaming. */
  count(): number {
    return this.open.size;
  }

  /** Watches closed so far because their consumers read too slowly. */
  slowClosed(): number {
    return this.closedSlow;
  }

  /** Ends every open watch cleanly (server shutdown). */
  closeAll(): void {
    for (const w of [...this.open]) w.end();
  }

  /** Starts streaming; throws ApiError (before any byte is written) on a bad resourceVersion. */
  async serve(res: ServerResponse, scope: WatchScope): Promise<void> {
    const rv = scope.resourceVersion;
    const fromScratch = rv === undefined || rv === "" || rv === "0";
    if (!fromScratch && !/^\d+$/.test(rv)) throw apiErrors.badRequest(`invalid resourceVersion ${JSON.stringify(rv)}: must be a non-negative integer`);
    let initial: Buffer[] = [];
    let from = rv ?? "0";
    if (fromScratch) {
      const list = await this.store.list(scope.type.storeKey, { namespace: scope.namespace, labelSelector: scope.labelSelector });
      from = list.resourceVersion;
      initial = list.items.flatMap((item) => {
        if (scope.table === undefined && scope.fields.length === 0) return [line("ADDED", item.json)];
        const object = JSON.parse(item.json) as StoredObject;
        return matchesFields(scope.fields, object) ? [this.render(scope, "ADDED", object)] : [];
      });
    }
    if (res.destroyed) return;
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
    res.flushHeaders();
    this.stream(res, scope, from, initial);
  }

  private stream(res: ServerResponse, scope: WatchScope, from: string, initial: Buffer[]): void {
    const { settings } = this;
    const timers = new Set<TimerHandle>();
    const after = (ms: number, fn: () => void): void => {
      const handle = settings.clock.setTimeout(() => {
        timers.delete(handle);
        fn();
      }, ms);
      timers.add(handle);
    };
    let finished = false;
    let subscription: StoreWatch | undefined;
    // The initial burst (a full listing for resourceVersion 0) is allowed on top of the cap,
    // or a large collection could never be watched from scratch.
    let allowance = settings.bufferBytes;
    const watch: OpenWatch = {
      scope,
      queued: 0,
      end: (reason?: string) => {
        if (finished) return;
        finished = true;
        subscription?.stop();
        this.open.delete(watch);
        this.queuedTotal -= watch.queued;
        watch.queued = 0;
        if (reason !== undefined) {
          // Queued behind what the consumer has not read yet: it learns why when it gets there.
          res.end(line("ERROR", JSON.stringify(new ApiError(503, "ServiceUnavailable", reason).toStatus())));
          after(OVERFLOW_GRACE_MS, () => res.destroy());
        } else res.end();
      },
    };
    const write = (chunk: Buffer): void => {
      if (finished) return;
      res.write(chunk);
      this.account(watch, res.writableLength);
      if (res.writableLength > allowance) this.closeSlow(watch, `the watch was closed: its consumer stopped reading (${res.writableLength} bytes queued, at most ${allowance} per watch)`);
      else if (this.queuedTotal > settings.totalBufferBytes) this.shedSlowest();
    };
    this.open.add(watch);
    res.on("drain", () => this.account(watch, res.writableLength));
    res.on("close", () => {
      watch.end();
      for (const t of timers) settings.clock.clearTimeout(t);
      timers.clear();
    });

    for (const chunk of initial) {
      allowance += chunk.length;
      write(chunk);
    }
    try {
      subscription = this.store.watch(
        scope.type.storeKey,
        from,
        (event) => {
          const e = decide(scope, event);
          if (e) write(this.encode(scope, e.type, event));
        },
        // A remote store (etcd) learns only later that a version is gone or it is cut off.
        (err) => {
          const status = err.reason === "Expired" ? apiErrors.expired(err.message) : new ApiError(503, "ServiceUnavailable", err.message);
          write(line("ERROR", JSON.stringify(status.toStatus())));
          watch.end();
        },
      );
    } catch (err) {
      const status = err instanceof StoreError && err.reason === "Expired" ? apiErrors.expired(err.message) : apiErrors.internal("the watch could not be started");
      if (!(err instanceof StoreError)) this.logger.error({ err, resource: scope.type.plural }, "watch failed");
      write(line("ERROR", JSON.stringify(status.toStatus())));
      watch.end();
      return;
    }
    if (finished) subscription.stop();

    // Jitter spreads the re-watches of many clients that connected together.
    let lifetime = settings.maxWatchSeconds * (0.9 + 0.2 * settings.random());
    if (scope.timeoutSeconds !== undefined && scope.timeoutSeconds > 0) lifetime = Math.min(lifetime, scope.timeoutSeconds);
    after(lifetime * 1000, () => watch.end());
    if (scope.allowBookmarks) {
      const bookmark = async (): Promise<void> => {
        if (finished) return;
        const object = { kind: scope.type.kind, apiVersion: scope.type.apiVersion, metadata: { resourceVersion: await this.store.resourceVersion() } };
        write(line("BOOKMARK", JSON.stringify(object)));
        after(settings.bookmarkSeconds * 1000, () => void bookmark());
      };
      after(settings.bookmarkSeconds * 1000, () => void bookmark());
    }
  }

  private account(watch: OpenWatch, queued: number): void {
    if (!this.open.has(watch)) return;
    this.queuedTotal += queued - watch.queued;
    watch.queued = queued;
  }

  private closeSlow(watch: OpenWatch, reason: string): void {
    this.closedSlow++;
    this.logger.warn({ resource: watch.scope.type.plural, namespace: watch.scope.namespace, queuedBytes: watch.queued, queuedTotalBytes: this.queuedTotal }, "watch closed: consumer too slow");
    watch.end(reason);
  }

  // Over the global cap: close the watches with the most unread data until back under it.
  private shedSlowest(): void {
    const byQueue = [...this.open].sort((a, b) => b.queued - a.queued);
    for (const w of byQueue) {
      if (this.queuedTotal <= this.settings.totalBufferBytes) return;
      this.closeSlow(w, `the watch was closed: watches together queued more than ${this.settings.totalBufferBytes} bytes and this one had the most unread (${w.queued} bytes)`);
    }
  }

  private render(scope: WatchScope, type: string, object: StoredObject): Buffer {
    if (scope.table === undefined) return line(type, JSON.stringify(object));
    return line(type, JSON.stringify(toTable(scope.type, [object], {}, this.settings.clock.now(), scope.table)));
  }

  private encode(scope: WatchScope, type: WatchEventType, event: StoreEvent): Buffer {
    let forEvent = this.encoded.get(event);
    if (!forEvent) this.encoded.set(event, (forEvent = new Map()));
    const key = `${type}/${scope.table ?? ""}`;
    let chunk = forEvent.get(key);
    if (!chunk) forEvent.set(key, (chunk = this.render(scope, type, event.object)));
    return chunk;
  }
}

function matches(scope: WatchScope, object: StoredObject): boolean {
  return matchesLabels(scope.labelSelector, object.metadata.labels) && matchesFields(scope.fields, object);
}

/**
 * How a store event looks to one watch. A change that moves an object into or out of the
 * selection is an ADDED or DELETED for this watch, as in Kubernetes.
 */
function decide(scope: WatchScope, event: StoreEvent): { type: WatchEventType } | undefined {
  if (scope.namespace !== undefined && (event.object.metadata.namespace ?? "") !== scope.namespace) return undefined;
  const now = matches(scope, event.object);
  if (event.type !== "MODIFIED" || event.previous === undefined) return now ? { type: event.type } : undefined;
  const before = matches(scope, event.previous);
  if (now && before) return { type: "MODIFIED" };
  if (now) return { type: "ADDED" };
  if (before) return { type: "DELETED" };
  return undefined;
}
