// The Store on etcd (v3 API, through etcd3): every object is one key (etcd-encoding.ts),
// resourceVersion is etcd's mod revision, writes are transactions comparing the key's mod
// revision (compare-and-swap), lists read at one revision (so `continue` pages show the
// collection at the first page's version, straight from etcd's MVCC), and watches are etcd
// watches started at a revision. Several zlh servers can share one etcd: nothing here is
// cached, every change any of them makes reaches every watch.
//
// Retention: etcd keeps every revision until compacted. The store compacts itself to keep
// the last `retainRevisions` revisions (as kube-apiserver compacts etcd), so lists and
// watches from older versions answer Expired (410) and clients relist.
import { Etcd3, type IKeyValue, type IOptions, type IRangeRequest } from "etcd3";
import { collectionPrefix, decodeObject, encodeObject, objectKey, parseKey, prefixEnd, withVersion } from "./etcd-encoding.js";
import { translateEtcdError } from "./etcd-errors.js";
import { openEtcdWatch } from "./etcd-watch.js";
import { matchesLabels } from "./label-selector.js";
import { StoreError, type ListOptions, type ListResult, type ListedItem, type Store, type StoreEvent, type StoredObject, type StoreWatch, type UpdateOptions } from "./store.js";

export interface EtcdStoreOptions {
  /** host:port of each member (http unless TLS material is given). */
  endpoints: string[];
  /** PEM files' contents for TLS to etcd: the CA, and a client certificate and key for mutual TLS. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** Every key this store writes starts with this (several zlh installations can share an etcd). */
  prefix?: string;
  /** Revisions kept before compacting (watch resume and list snapshots reach this far back). */
  retainRevisions?: number;
  /** Deadline of each call; past it (no quorum, no member reachable) the call fails Unavailable. */
  callTimeoutMs?: number;
}

const DEFAULT_PREFIX = "/zlh/";
const DEFAULT_RETAIN = 10_000;
const DEFAULT_CALL_TIMEOUT_MS = 5000;
// Label-selected lists read this many keys per round trip while filtering.
const SELECTOR_BATCH = 500;

const describe = (resource: string, namespace: string, name: string): string => `${resource} ${namespace ? `${namespace}/` : ""}${name}`;

export class EtcdStore implements Store {
  readonly client: Etcd3;
  private readonly prefix: string;
  private readonly retain: number;
  private compactedTo = 0;
  private compacting: Promise<void> | undefined;
  private readonly watches = new Set<StoreWatch>();

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error("etcd: no endpoints given");
    const scheme = options.tls ? "https" : "http";
    const timeout = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const clientOptions: IOptions = {
      hosts: options.endpoints.map((e) => (/^\w+:\/\//.test(e) ? e : `${scheme}://${e}`)),
      dialTimeout: timeout,
      // A deadline on every unary call: without one, a write to a cluster without quorum waits forever.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    };
    if (options.tls) clientOptions.credentials = { rootCertificate: options.tls.ca, privateKey: options.tls.key, certChain: options.tls.cert };
    this.client = new Etcd3(clientOptions);
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.retain = options.retainRevisions ?? DEFAULT_RETAIN;
    if (!Number.isInteger(this.retain) || this.retain < 1) throw new RangeError(`etcd retainRevisions must be a positive integer, got ${this.retain}`);
  }

  async get(resource: string, namespace: string, name: string): Promise<StoredObject | undefined> {
    const res = await this.call(() => this.client.kv.range({ key: Buffer.from(objectKey(this.prefix, resource, namespace, name)) }));
    const kv = res.kvs[0];
    return kv ? decodeObject(kv.value.toString(), kv.mod_revision) : undefined;
  }

  async list(resource: string, options: ListOptions = {}): Promise<ListResult> {
    const from = options.continueFrom;
    if (from && !/^[1-9]\d*$/.test(from.resourceVersion)) throw new StoreError("Expired", `resourceVersion ${JSON.stringify(from.resourceVersion)} was not issued by this store`);
    const scope = collectionPrefix(this.prefix, resource, options.namespace);
    let start: Buffer = from ? Buffer.from(`${objectKey(this.prefix, resource, from.namespace, from.name)}\u0000`) : Buffer.from(scope);
    const end = prefixEnd(scope);
    start = maxKey(start, Buffer.from(scope));
    const selector = options.labelSelector ?? [];
    const limit = options.limit;
    let revision = from?.resourceVersion;
    const items: ListedItem[] = [];
    for (;;) {
      // Without a selector every key read is returned: read one past the limit to know if more follow.
      const want = limit === undefined ? 0 : selector.length === 0 ? limit + 1 - items.length : Math.max(SELECTOR_BATCH, limit + 1);
      const req: IRangeRequest = { key: start, range_end: end, limit: want };
      if (revision !== undefined) req.revision = revision;
      const res = await this.call(() => this.client.kv.range(req), from ? `continuing at resourceVersion ${from.resourceVersion}` : "");
      revision ??= res.header.revision;
      for (const kv of res.kvs) {
        const item = this.listed(kv);
        if (!item) continue;
        if (selector.length > 0 && !matchesLabels(selector, (JSON.parse(item.json) as StoredObject).metadata.labels)) continue;
        items.push(item);
      }
      const last = res.kvs[res.kvs.length - 1];
      const done = !res.more || last === undefined || (limit !== undefined && items.length > limit);
      if (done) break;
      start = Buffer.concat([last.key, Buffer.from([0])]);
    }
    if (limit !== undefined && items.length > limit) return { items: items.slice(0, limit), more: true, resourceVersion: revision };
    return { items, more: false, resourceVersion: revision };
  }

  async create(resource: string, object: StoredObject): Promise<StoredObject> {
    const { namespace, name } = coordinates(object);
    const key = objectKey(this.prefix, resource, namespace, name);
    const value = encodeObject(object);
    const res = await this.call(() => this.client.if(key, "Create", "==", 0).then(this.client.put(key).value(value)).commit());
    if (!res.succeeded) throw new StoreError("AlreadyExists", `${describe(resource, namespace, name)} already exists`);
    await this.afterWrite(res.header.revision);
    return decodeObject(value, res.header.revision);
  }

  async update(resource: string, object: StoredObject, options: UpdateOptions): Promise<StoredObject> {
    const { namespace, name } = coordinates(object);
    const key = objectKey(this.prefix, resource, namespace, name);
    const expected = options.expectedResourceVersion;
    const value = encodeObject(object);
    if (!/^[1-9]\d*$/.test(expected)) await this.refuse(resource, namespace, name, expected);
    const res = await this.call(() => this.client.if(key, "Mod", "==", expected).then(this.client.put(key).value(value)).else(this.client.get(key)).commit());
    if (!res.succeeded) await this.refuse(resource, namespace, name, expected, res.responses[0]?.response_range?.kvs[0]);
    await this.afterWrite(res.header.revision);
    return decodeObject(value, res.header.revision);
  }

  async delete(resource: string, namespace: string, name: string, expectedResourceVersion?: string): Promise<StoredObject> {
    const key = Buffer.from(objectKey(this.prefix, resource, namespace, name));
    const remove = { request_delete_range: { key, prev_kv: true } };
    if (expectedResourceVersion !== undefined && !/^[1-9]\d*$/.test(expectedResourceVersion)) await this.refuse(resource, namespace, name, expectedResourceVersion);
    const res = await this.call(() => {
      // Unpinned: delete whatever is there; pinned: only that version.
      const txn = expectedResourceVersion === undefined ? this.client.if(key, "Create", ">", 0) : this.client.if(key, "Mod", "==", expectedResourceVersion);
      return txn.then(remove).else(this.client.get(key)).commit();
    });
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (!res.succeeded || !prev) return this.refuse(resource, namespace, name, expectedResourceVersion ?? "", res.responses[0]?.response_range?.kvs[0]);
    await this.afterWrite(res.header.revision);
    return decodeObject(prev.value.toString(), res.header.revision);
  }

  async pruneOldest(resource: string, keep: number, namespace?: string): Promise<number> {
    const scope = Buffer.from(collectionPrefix(this.prefix, resource, namespace));
    const total = Number((await this.call(() => this.client.kv.range({ key: scope, range_end: prefixEnd(scope), count_only: true }))).count);
    if (total <= keep) return 0;
    const oldest = await this.call(() =>
      this.client.kv.range({ key: scope, range_end: prefixEnd(scope), limit: total - keep, keys_only: true, sort_target: "Mod", sort_order: "Ascend" }),
    );
    let pruned = 0;
    // One at a time, oldest first: each deletion is its own revision, seen by watchers in age order.
    for (const kv of oldest.kvs) {
      const res = await this.call(() => this.client.if(kv.key, "Mod", "==", kv.mod_revision).then({ request_delete_range: { key: kv.key } }).commit());
      if (res.succeeded) {
        pruned++;
        await this.afterWrite(res.header.revision);
      }
    }
    return pruned;
  }

  async count(resource?: string, namespace?: string): Promise<number> {
    const scope = Buffer.from(resource === undefined ? this.prefix : collectionPrefix(this.prefix, resource, namespace));
    const res = await this.call(() => this.client.kv.range({ key: scope, range_end: prefixEnd(scope), count_only: true }));
    return Number(res.count);
  }

  async namespaces(): Promise<string[]> {
    // A skip scan: one read per (resource, namespace) pair, not per object.
    const found = new Set<string>();
    const end = prefixEnd(this.prefix);
    let start: Buffer = Buffer.from(this.prefix);
    for (;;) {
      const res = await this.call(() => this.client.kv.range({ key: start, range_end: end, limit: 1, keys_only: true }));
      const kv = res.kvs[0];
      if (!kv) break;
      const parsed = parseKey(this.prefix, kv.key.toString());
      if (!parsed) {
        start = Buffer.concat([kv.key, Buffer.from([0])]);
        continue;
      }
      if (parsed.namespace !== "") found.add(parsed.namespace);
      start = prefixEnd(collectionPrefix(this.prefix, parsed.resource, parsed.namespace));
    }
    return [...found].sort();
  }

  async resourceVersion(): Promise<string> {
    const res = await this.call(() => this.client.kv.range({ key: Buffer.from(this.prefix), count_only: true }));
    return res.header.revision;
  }

  watch(resource: string, after: string, onEvent: (event: StoreEvent) => void, onError?: (err: StoreError) => void): StoreWatch {
    if (!/^\d+$/.test(after)) throw new StoreError("Expired", `resourceVersion ${JSON.stringify(after)} was not issued by this store`);
    const w = openEtcdWatch({
      client: this.client,
      prefix: this.prefix,
      resource,
      after,
      onEvent,
      onError: (err) => {
        this.watches.delete(w);
        onError?.(err);
      },
      // Checks `after` is still retained (and was issued) before any event is delivered.
      check: async () => {
        await this.call(() => this.client.kv.range({ key: Buffer.from(this.prefix), count_only: true, revision: after }), `watching from resourceVersion ${after}`);
      },
    });
    this.watches.add(w);
    return {
      stop: () => {
        this.watches.delete(w);
        w.stop();
      },
    };
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.stop();
    this.watches.clear();
    await this.compacting?.catch(() => {});
    this.client.close();
  }

  private listed(kv: IKeyValue): ListedItem | undefined {
    const parsed = parseKey(this.prefix, kv.key.toString());
    if (!parsed) return undefined;
    return { namespace: parsed.namespace, name: parsed.name, json: withVersion(kv.value.toString(), kv.mod_revision) };
  }

  // A failed compare: NotFound if the key is absent, else Conflict with the version it has.
  private async refuse(resource: string, namespace: string, name: string, expected: string, current?: IKeyValue): Promise<never> {
    const kv = current ?? (await this.call(() => this.client.kv.range({ key: Buffer.from(objectKey(this.prefix, resource, namespace, name)) }))).kvs[0];
    if (!kv) throw new StoreError("NotFound", `${describe(resource, namespace, name)} not found`);
    throw new StoreError(
      "Conflict",
      `the object has been modified; please apply your changes to the latest version and try again (have resourceVersion ${kv.mod_revision}, got ${expected})`,
    );
  }

  private async afterWrite(revision: string): Promise<void> {
    const target = Number(revision) - this.retain;
    // Compacting costs etcd a pass over its index: once per tenth of the window, not per write.
    if (target - this.compactedTo < Math.max(1, Math.floor(this.retain / 10))) return;
    this.compactedTo = target;
    const run = this.client.kv.compact({ revision: String(target) }).then(
      () => {},
      () => {
        // Another zlh server compacted further already, or etcd is unreachable: the next write retries.
      },
    );
    this.compacting = run;
    await run;
  }

  private async call<T>(f: () => Promise<T>, what?: string): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw translateEtcdError(e, what);
    }
  }
}

function coordinates(object: StoredObject): { namespace: string; name: string } {
  return { namespace: object.metadata.namespace ?? "", name: object.metadata.name };
}

function maxKey(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) >= 0 ? a : b;
}
