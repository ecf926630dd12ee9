// `?watch=true` streams: one JSON event per line, resumable from a resourceVersion through
// the store's history. Each watch ends cleanly after a jittered lifetime so clients
// re-watch (spreading reconnects), and a consumer that stops reading is cut off once its
// buffer is full instead of growing server memory.
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Clock, TimerHandle } from "../engine/clock.js";
import { matchesLabels, type LabelSelector } from "../store/label-selector.js";
import type { Store, StoreEvent, StoredObject } from "../store/store.js";
import { apiErrors } from "./api-error.js";
import { matchesFields, type FieldRequirement } from "./field-selector.js";
import type { ResourceType } from "./resource-types.js";
import { toTable } from "./table.js";

export interface WatchSettings {
  maxWatchSeconds: number;
  bookmarkSeconds: number;
  /** Bytes a watch may have queued in its socket before it is closed. */
  bufferBytes: number;
  clock: Clock;
  random: () => number;
}

export interface WatchScope {
  type: ResourceType;
  /** Omit for every namespace. */
  namespace?: string;
  labelSelector: LabelSelector;
  fields: FieldRequirement[];
  asTable: boolean;
  /** The `resourceVersion` query parameter as sent. */
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
}

type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

interface OpenWatch {
  end(): void;
}

// Grace for a consumer that was cut off to read what is queued before its socket is dropped.
const OVERFLOW_GRACE_MS = 60_000;

export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: Store,
    private readonly settings: WatchSettings,
    private readonly logger: Logger,
  ) {}

  /** Number of watches currently streaming. */
  count(): number {
    return this.open.size;
  }

  /** Ends every open watch cleanly (server shutdown). */
  closeAll(): void {
    for (const w of [...this.open]) w.end();
  }

  /** Starts streaming; throws ApiError (before any byte is written) on a bad resourceVersion. */
  serve(res: ServerResponse, scope: WatchScope): void {
    const { store, settings } = this;
    const rv = scope.resourceVersion;
    let initial: { type: WatchEventType; object: StoredObject }[] = [];
    let expired: string | undefined;
    if (rv === undefined || rv === "" || rv === "0") {
      const list = store.list(scope.type.storeKey, { namespace: scope.namespace, labelSelector: scope.labelSelector });
      initial = list.items.filter((o) => matchesFields(scope.fields, o)).map((object) => ({ type: "ADDED" as const, object }));
    } else {
      if (!/^\d+$/.test(rv)) throw apiErrors.badRequest(`invalid resourceVersion ${JSON.stringify(rv)}: must be a non-negative integer`);
      const history = store.eventsSince(Number(rv), scope.type.storeKey);
      if (history.expired) expired = `too old resource version: ${rv} (${history.oldest})`;
      else initial = history.events.map((e) => decide(scope, e)).filter((e) => e !== undefined);
    }

    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
    res.flushHeaders();
    if (expired !== undefined) {
      res.end(JSON.stringify({ type: "ERROR", object: apiErrors.expired(expired).toStatus() }) + "\n");
      return;
    }

    // Lifetime, bookmark and overflow timers; all cleared when the response closes.
    const timers = new Set<TimerHandle>();
    const after = (ms: number, fn: () => void): void => {
      const handle = settings.clock.setTimeout(() => {
        timers.delete(handle);
        fn();
      }, ms);
      timers.add(handle);
    };
    let finished = false;
    let unsubscribe = (): void => {};
    const watch: OpenWatch = { end: () => end() };
    const end = (): void => {
      if (finished) return;
      finished = true;
      unsubscribe();
      this.open.delete(watch);
      res.end();
    };
    // The initial burst (a full listing for resourceVersion 0) is allowed on top of the cap,
    // or a large collection could never be watched from scratch.
    let allowance = settings.bufferBytes;
    const write = (line: string): void => {
      if (finished) return;
      res.write(line);
      if (res.writableLength > allowance) {
        this.logger.warn({ resource: scope.type.plural, namespace: scope.namespace, queuedBytes: res.writableLength }, "watch overflow");
        end();
        // A consumer that never reads would otherwise hold its queued bytes forever.
        after(OVERFLOW_GRACE_MS, () => res.destroy());
      }
    };
    const encode = (type: string, object: unknown): string =>
      JSON.stringify({ type, object: scope.asTable && type !== "BOOKMARK" ? toTable(scope.type, [object as StoredObject], undefined, settings.clock.now()) : object }) + "\n";

    // Subscribing in the same turn as the list or history read leaves no gap between them.
    unsubscribe = store.subscribe((event) => {
      const e = decide(scope, event);
      if (e) write(encode(e.type, e.object));
    });
    this.open.add(watch);
    res.on("close", () => {
      end();
      for (const t of timers) settings.clock.clearTimeout(t);
      timers.clear();
    });

    for (const e of initial) {
      const line = encode(e.type, e.object);
      allowance += Buffer.byteLength(line);
      write(line);
    }

    // Jitter spreads the re-watches of many clients that connected together.
    let lifetime = settings.maxWatchSeconds * (0.9 + 0.2 * settings.random());
    if (scope.timeoutSeconds !== undefined && scope.timeoutSeconds > 0) lifetime = Math.min(lifetime, scope.timeoutSeconds);
    after(lifetime * 1000, end);
    if (scope.allowBookmarks) {
      const bookmark = (): void => {
        if (finished) return;
        const object = { kind: scope.type.kind, apiVersion: scope.type.apiVersion, metadata: { resourceVersion: String(store.resourceVersion()) } };
        write(encode("BOOKMARK", object));
        after(settings.bookmarkSeconds * 1000, bookmark);
      };
      after(settings.bookmarkSeconds * 1000, bookmark);
    }
  }
}

function matches(scope: WatchScope, object: StoredObject): boolean {
  return matchesLabels(scope.labelSelector, object.metadata.labels) && matchesFields(scope.fields, object);
}

/**
 * How a store event looks to one watch. A change that moves an object into or out of the
 * selection is an ADDED or DELETED for this watch, as in Kubernetes.
 */
function decide(scope: WatchScope, event: StoreEvent): { type: WatchEventType; object: StoredObject } | undefined {
  if (event.resource !== scope.type.storeKey) return undefined;
  if (scope.namespace !== undefined && (event.object.metadata.namespace ?? "") !== scope.namespace) return undefined;
  const now = matches(scope, event.object);
  if (event.type !== "MODIFIED" || event.previous === undefined) return now ? { type: event.type, object: event.object } : undefined;
  const before = matches(scope, event.previous);
  if (now && before) return { type: "MODIFIED", object: event.object };
  if (now) return { type: "ADDED", object: event.object };
  if (before) return { type: "DELETED", object: event.object };
  return undefined;
}
