// One Store watch as an etcd watch on a collection's key prefix, from a revision, with the
// previous value of every key (etcd's prev_kv), turned into StoreEvents. etcd3 reconnects a
// broken watch stream by itself and resumes after the last revision it delivered; a watch
// that cannot resume (compacted meanwhile) or is cancelled ends with Expired, and the
// client relists, as Kubernetes clients do on 410.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from "etcd3";
import { decodeObject, parseKey } from "./etcd-encoding.js";
import { StoreError, type StoreEvent, type StoredObject, type StoreWatch } from "./store.js";
import { collectionPrefix } from "./etcd-encoding.js";

export interface EtcdWatchOptions {
  client: Etcd3;
  prefix: string;
  resource: string;
  after: string;
  onEvent: (event: StoreEvent) => void;
  onError: (err: StoreError) => void;
  /** Runs before the watch starts; a StoreError it throws (Expired) ends the watch. */
  check: () => Promise<void>;
}

export function openEtcdWatch(o: EtcdWatchOptions): StoreWatch {
  let stopped = false;
  let watcher: Watcher | undefined;
  const fail = (err: StoreError): void => {
    if (stopped) return;
    stopped = true;
    void watcher?.cancel().catch(() => {});
    o.onError(err);
  };
  const start = async (): Promise<void> => {
    await o.check();
    if (stopped) return;
    const w = await o.client
      .watch()
      .prefix(collectionPrefix(o.prefix, o.resource))
      .startRevision(String(Number(o.after) + 1))
      .withPreviousKV()
      .create();
    watcher = w;
    if (stopped) {
      void w.cancel().catch(() => {});
      return;
    }
    w.on("data", (res: IWatchResponse) => {
      if (stopped) return;
      for (const ev of res.events) {
        const event = toStoreEvent(o.prefix, o.resource, ev.type, ev.kv, ev.prev_kv);
        if (event) o.onEvent(event);
      }
    });
    w.on("error", (err: Error) => fail(new StoreError("Expired", `the watch ended: ${err.message.split("\n")[0]} (relist)`)));
  };
  start().catch((err: unknown) => {
    fail(err instanceof StoreError ? err : new StoreError("Unavailable", `the watch could not be started: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`));
  });
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      void watcher?.cancel().catch(() => {});
    },
  };
}

function toStoreEvent(prefix: string, resource: string, type: string, kv: IKeyValue, prevKv: IKeyValue | undefined): StoreEvent | undefined {
  const previous = prevKv ? decodeObject(prevKv.value.toString(), prevKv.mod_revision) : undefined;
  const resourceVersion = Number(kv.mod_revision);
  if (type === "Delete") {
    const object = previous ? withResourceVersion(previous, kv.mod_revision) : placeholder(prefix, kv);
    if (!object) return undefined;
    return { type: "DELETED", resource, object, previous, resourceVersion };
  }
  const object = decodeObject(kv.value.toString(), kv.mod_revision);
  const added = kv.create_revision === kv.mod_revision;
  return added ? { type: "ADDED", resource, object, resourceVersion } : { type: "MODIFIED", resource, object, previous, resourceVersion };
}

function withResourceVersion(object: StoredObject, revision: string): StoredObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: revision } };
}

// etcd always has the previous value of a deleted key (compaction keeps each key's latest
// version); should it not, the delete is still reported, with the object's name only.
function placeholder(prefix: string, kv: IKeyValue): StoredObject | undefined {
  const parsed = parseKey(prefix, kv.key.toString());
  if (!parsed) return undefined;
  return { apiVersion: "v1", kind: "Unknown", metadata: { name: parsed.name, ...(parsed.namespace ? { namespace: parsed.namespace } : {}), resourceVersion: kv.mod_revision } };
}
