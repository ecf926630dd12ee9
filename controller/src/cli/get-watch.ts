// `get -w`: follows changes after the initial listing, one callback per change, until
// Ctrl-C. A closed watch resumes from the last resourceVersion seen; an expired one (410)
// relists and reports what changed while we were away.
import { Watch } from "@kubernetes/client-node";
import { isConnectionError } from "./api-errors.js";
import type { CliIO } from "./cli-io.js";
import type { Connection } from "./connection.js";
import { collectionPath, type KindInfo } from "./kinds.js";
import type { ResourceClient, ResourceList } from "./resource-client.js";
import type { ResourceObject } from "./resource-rows.js";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";
export type OnChange = (type: ChangeType, obj: ResourceObject) => void;

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_WATCH_MS = 1_000;

type WatchEnd = { kind: "closed"; events: number } | { kind: "expired" } | { kind: "failed"; error: unknown };

function keyOf(obj: ResourceObject): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

function isExpired(err: unknown): boolean {
  return (err as { statusCode?: unknown } | null)?.statusCode === 410;
}

/** One watch request; resolves when the server or the network ends it. */
function watchOnce(
  conn: Connection,
  path: string,
  resourceVersion: string,
  labelSelector: string | undefined,
  signal: AbortSignal,
  onEvent: (type: string, obj: ResourceObject) => void,
): Promise<WatchEnd> {
  return new Promise((resolve) => {
    let events = 0;
    let expired = false;
    let abort: AbortController | undefined;
    const stop = (): void => abort?.abort();
    signal.addEventListener("abort", stop, { once: true });
    const finish = (end: WatchEnd): void => {
      signal.removeEventListener("abort", stop);
      resolve(end);
    };
    new Watch(conn.kc)
      .watch(
        path,
        { resourceVersion: resourceVersion || undefined, ...(labelSelector !== undefined ? { labelSelector } : {}) },
        (type, obj: ResourceObject & { code?: number }) => {
          if (type === "ERROR") {
            if (obj?.code === 410) expired = true;
            return;
          }
          events++;
          onEvent(type, obj);
        },
        (err: unknown) => {
          if (expired || isExpired(err)) finish({ kind: "expired" });
          else if (err && !signal.aborted) finish({ kind: "failed", error: err });
          else finish({ kind: "closed", events });
        },
      )
      .then((c) => {
        abort = c;
        if (signal.aborted) c.abort();
      }, (error: unknown) => finish({ kind: "failed", error }));
  });
}

/** Follows one kind from `initial` until `io.signal` aborts. */
async function followKind(
  io: CliIO,
  conn: Connection,
  client: ResourceClient,
  info: KindInfo,
  namespace: string | undefined,
  initial: ResourceList,
  onChange: OnChange,
  labelSelector: string | undefined,
): Promise<void> {
  const known = new Map(initial.items.map((o) => [keyOf(o), o]));
  let rv = initial.resourceVersion;
  let backoff = MIN_BACKOFF_MS;
  let warned = false;
  const apply = (type: ChangeType, obj: ResourceObject): void => {
    const withKind = { ...obj, kind: obj.kind ?? info.kind };
    if (type === "DELETED") known.delete(keyOf(withKind));
    else known.set(keyOf(withKind), withKind);
    onChange(type, withKind);
  };
  while (!io.signal.aborted) {
    const started = io.clock.now();
    const end = await watchOnce(conn, collectionPath(info, namespace), rv, labelSelector, io.signal, (type, obj) => {
      rv = obj?.metadata?.resourceVersion ?? rv;
      if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") apply(type, obj);
    });
    if (io.signal.aborted) return;
    if (end.kind === "expired") {
      try {
        const list = await client.list(info, namespace, labelSelector);
        const seen = new Set<string>();
        for (const obj of list.items) {
          seen.add(keyOf(obj));
          const before = known.get(keyOf(obj));
          if (before?.metadata?.resourceVersion !== obj.metadata?.resourceVersion) apply(before ? "MODIFIED" : "ADDED", obj);
        }
        for (const [key, obj] of [...known]) if (!seen.has(key)) apply("DELETED", obj);
        rv = list.resourceVersion;
        backoff = MIN_BACKOFF_MS;
        continue;
      } catch (error) {
        if (!warned) io.err(`watch ${info.plural}: relist failed: ${(error as Error).message}; retrying`);
        warned = true;
      }
    } else if (end.kind === "failed") {
      if (!warned) io.err(`watch ${info.plural}: ${isConnectionError(end.error) ? `lost connection to ${conn.server}` : String((end.error as Error)?.message ?? end.error)}; retrying`);
      warned = true;
    } else if (end.events > 0 || io.clock.now() - started >= HEALTHY_WATCH_MS) {
      // The server's periodic close of a healthy watch: resume at once. Only a watch that
      // ends immediately and empty-handed backs off, so a misbehaving server is not hammered.
      backoff = MIN_BACKOFF_MS;
      warned = false;
      continue;
    }
    await io.clock.sleep(backoff, io.signal);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}

/** Follows every kind in `initial` until `io.signal` aborts. */
export async function followChanges(
  io: CliIO,
  conn: Connection,
  client: ResourceClient,
  namespace: string | undefined,
  initial: ReadonlyMap<KindInfo, ResourceList>,
  onChange: OnChange,
  labelSelector?: string,
): Promise<void> {
  await Promise.all([...initial].map(([info, list]) => followKind(io, conn, client, info, namespace, list, onChange, labelSelector)));
}
