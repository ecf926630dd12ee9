// The embedded Store: one SQLite file (WAL) holding every object as JSON, plus the global
// resourceVersion counter. Change history lives in memory only; after a restart older
// versions are expired and clients relist.
//
// better-sqlite3 is synchronous, so every operation runs to completion in one turn of the
// event loop; the async interface is the backend-neutral contract (store.ts). Objects in
// change events and history are the store's own copies (parsed from what was written),
// shared by every watcher: nobody may change them.
import Database from "better-sqlite3";
import { rollBack, statesAtSnapshot } from "./list-snapshot.js";
import { prepareSchema } from "./sqlite-schema.js";
import { selectorConditions } from "./sqlite-selector.js";
import { WatchHistory } from "./watch-history.js";
import {
  StoreError,
  type ListOptions,
  type ListResult,
  type ListedItem,
  type Store,
  type StoreEvent,
  type StoredObject,
  type StoreWatch,
  type UpdateOptions,
} from "./store.js";

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /** Changes kept in memory for watch resume and list snapshots. */
  watchHistory?: number;
  /** Caps the database at this many pages (tests use it to fill the "disk"). */
  maxPageCount?: number;
}

interface KeyRow {
  id: number;
  rv: number;
}

interface ListRow {
  namespace: string;
  name: string;
  body: string;
}

interface Listener {
  onEvent: (event: StoreEvent) => void;
}

// Checkpoints run between requests, never inside a commit (SQLite's automatic checkpoint
// runs in whichever commit crosses the threshold, adding its cost to that request).
const CHECKPOINT_AFTER_WRITES = 1000;
const CHECKPOINT_DELAY_MS = 1000;
const MAX_CACHED_STATEMENTS = 200;

function coordinates(object: StoredObject): { namespace: string; name: string } {
  return { namespace: object.metadata.namespace ?? "", name: object.metadata.name };
}

function describe(resource: string, namespace: string, name: string): string {
  return `${resource} ${namespace ? `${namespace}/` : ""}${name}`;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => b![k] === a![k]);
}

/** SQLite failures in the store's own terms: a full disk or database is StorageFull, a closed one Unavailable. */
function translate(e: unknown): unknown {
  if (e instanceof StoreError) return e;
  const code = (e as { code?: string }).code ?? "";
  if (code === "SQLITE_FULL") return new StoreError("StorageFull", "database or disk is full");
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return new StoreError("Unavailable", "the database is busy");
  if (e instanceof TypeError && /database connection is not open/.test(e.message)) return new StoreError("Unavailable", "the store is closed");
  return e;
}

function withResourceVersion(object: StoredObject, rv: number): StoredObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly history: WatchHistory;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly statements = new Map<string, Database.Statement<unknown[], ListRow>>();
  private rv: number;
  private readonly stmt;
  private writesSinceCheckpoint = 0;
  private checkpointTimer: NodeJS.Timeout | undefined;

  constructor(options: SqliteStoreOptions) {
    this.db = new Database(options.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("wal_autocheckpoint = 0");
    prepareSchema(this.db);
    if (options.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
    this.stmt = {
      key: this.db.prepare<[string, string, string], KeyRow>("SELECT id, rv FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
      get: this.db.prepare<[string, string, string], { body: string }>("SELECT body FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
      bodyById: this.db.prepare<[number], { body: string }>("SELECT body FROM objects WHERE id = ?"),
      insert: this.db.prepare<[string, string, string, number, string]>("INSERT INTO objects (resource, namespace, name, rv, body) VALUES (?, ?, ?, ?, ?)"),
      replace: this.db.prepare<[number, string, number]>("UPDATE objects SET rv = ?, body = ? WHERE id = ?"),
      remove: this.db.prepare<[number]>("DELETE FROM objects WHERE id = ?"),
      addLabel: this.db.prepare<[number, string, string]>("INSERT INTO labels (object, key, value) VALUES (?, ?, ?)"),
      dropLabels: this.db.prepare<[number]>("DELETE FROM labels WHERE object = ?"),
      oldestAll: this.db.prepare<[string, number], KeyRow & ListRow>("SELECT id, rv, namespace, name, body FROM objects WHERE resource = ? ORDER BY rv ASC LIMIT ?"),
      oldestNamespace: this.db.prepare<[string, string, number], KeyRow & ListRow>("SELECT id, rv, namespace, name, body FROM objects WHERE resource = ? AND namespace = ? ORDER BY rv ASC LIMIT ?"),
      countNamespace: this.db.prepare<[string, string], { n: number }>("SELECT count(*) AS n FROM objects WHERE resource = ? AND namespace = ?"),
      countResource: this.db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM objects WHERE resource = ?"),
      countAll: this.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM objects"),
      namespaces: this.db.prepare<[], { namespace: string }>("SELECT DISTINCT namespace FROM objects WHERE namespace != '' ORDER BY namespace"),
      readRv: this.db.prepare<[], { value: number }>("SELECT value FROM counters WHERE key = 'resourceVersion'"),
      writeRv: this.db.prepare<[number]>("UPDATE counters SET value = ? WHERE key = 'resourceVersion'"),
    };
    this.rv = this.stmt.readRv.get()!.value;
    this.history = new WatchHistory(options.watchHistory ?? 10_000, this.rv);
  }

  async get(resource: string, namespace: string, name: string): Promise<StoredObject | undefined> {
    const row = this.guard(() => this.stmt.get.get(resource, namespace, name));
    return row ? (JSON.parse(row.body) as StoredObject) : undefined;
  }

  async list(resource: string, options: ListOptions = {}): Promise<ListResult> {
    const selector = options.labelSelector ?? [];
    const from = options.continueFrom;
    if (from && !/^\d+$/.test(from.resourceVersion)) throw new StoreError("Expired", `resourceVersion ${JSON.stringify(from.resourceVersion)} was not issued by this store`);
    const snapshot = from ? Number(from.resourceVersion) : this.rv;
    let states = new Map<string, StoredObject | null>();
    if (from && snapshot !== this.rv) {
      const history = this.history.since(snapshot, this.rv, resource);
      if (history.expired) throw new StoreError("Expired", `resourceVersion ${from.resourceVersion} is no longer retained (oldest ${history.oldest})`);
      states = statesAtSnapshot(history.events);
    }
    const limit = options.limit;
    const fetch = limit === undefined ? undefined : limit + states.size + 1;
    const rows = this.guard(() => this.selectRows(resource, options, fetch));
    const items: ListedItem[] = rows.map((r) => ({ namespace: r.namespace, name: r.name, json: r.body }));
    const after = from ? { namespace: from.namespace, name: from.name } : undefined;
    const page = states.size > 0 ? rollBack(items, states, { namespace: options.namespace, labelSelector: selector, after }, limit) : cut(items, limit);
    return { items: page.items, more: page.more, resourceVersion: String(snapshot) };
  }

  async create(resource: string, object: StoredObject): Promise<StoredObject> {
    const { namespace, name } = coordinates(object);
    const stored = this.write(() => {
      if (this.stmt.key.get(resource, namespace, name)) throw new StoreError("AlreadyExists", `${describe(resource, namespace, name)} already exists`);
      const text = JSON.stringify(withResourceVersion(object, this.bump()));
      const id = Number(this.stmt.insert.run(resource, namespace, name, this.rv, text).lastInsertRowid);
      this.insertLabels(id, object.metadata.labels);
      return text;
    });
    this.emit({ type: "ADDED", resource, object: JSON.parse(stored) as StoredObject, resourceVersion: this.rv });
    return JSON.parse(stored) as StoredObject;
  }

  async update(resource: string, object: StoredObject, options: UpdateOptions): Promise<StoredObject> {
    const { namespace, name } = coordinates(object);
    let previous: StoredObject | undefined;
    const stored = this.write(() => {
      const row = this.current(resource, namespace, name, options.expectedResourceVersion);
      const given = options.previous;
      // The caller's copy stands in for the stored one only if it is of the version checked.
      previous = given && given.metadata.resourceVersion === String(row.rv) ? given : (JSON.parse(this.stmt.bodyById.get(row.id)!.body) as StoredObject);
      const text = JSON.stringify(withResourceVersion(object, this.bump()));
      this.stmt.replace.run(this.rv, text, row.id);
      if (!sameLabels(previous.metadata.labels, object.metadata.labels)) {
        this.stmt.dropLabels.run(row.id);
        this.insertLabels(row.id, object.metadata.labels);
      }
      return text;
    });
    this.emit({ type: "MODIFIED", resource, object: JSON.parse(stored) as StoredObject, previous, resourceVersion: this.rv });
    return JSON.parse(stored) as StoredObject;
  }

  async delete(resource: string, namespace: string, name: string, expectedResourceVersion?: string): Promise<StoredObject> {
    let previous: StoredObject | undefined;
    const gone = this.write(() => {
      const row = this.current(resource, namespace, name, expectedResourceVersion);
      previous = JSON.parse(this.stmt.bodyById.get(row.id)!.body) as StoredObject;
      this.removeRow(row.id);
      return withResourceVersion(previous, this.bump());
    });
    this.emit({ type: "DELETED", resource, object: gone, previous, resourceVersion: this.rv });
    return structuredClone(gone);
  }

  async pruneOldest(resource: string, keep: number, namespace?: string): Promise<number> {
    const events = this.write(() => {
      const total = namespace === undefined ? this.stmt.countResource.get(resource)!.n : this.stmt.countNamespace.get(resource, namespace)!.n;
      if (total <= keep) return [];
      const rows = namespace === undefined ? this.stmt.oldestAll.all(resource, total - keep) : this.stmt.oldestNamespace.all(resource, namespace, total - keep);
      return rows.map((row): StoreEvent => {
        const previous = JSON.parse(row.body) as StoredObject;
        this.removeRow(row.id);
        const object = withResourceVersion(previous, this.bump());
        return { type: "DELETED", resource, object, previous, resourceVersion: this.rv };
      });
    });
    for (const e of events) this.emit(e);
    return events.length;
  }

  async count(resource?: string, namespace?: string): Promise<number> {
    return this.guard(() => {
      if (resource === undefined) return this.stmt.countAll.get()!.n;
      return (namespace === undefined ? this.stmt.countResource.get(resource) : this.stmt.countNamespace.get(resource, namespace))!.n;
    });
  }

  async namespaces(): Promise<string[]> {
    return this.guard(() => this.stmt.namespaces.all().map((r) => r.namespace));
  }

  async resourceVersion(): Promise<string> {
    return String(this.rv);
  }

  watch(resource: string, after: string, onEvent: (event: StoreEvent) => void): StoreWatch {
    if (!/^\d+$/.test(after)) throw new StoreError("Expired", `resourceVersion ${JSON.stringify(after)} was not issued by this store`);
    const history = this.history.since(Number(after), this.rv, resource);
    if (history.expired) throw new StoreError("Expired", `too old resource version: ${after} (${history.oldest})`);
    const listener: Listener = { onEvent };
    let set = this.listeners.get(resource);
    if (!set) this.listeners.set(resource, (set = new Set()));
    set.add(listener);
    const stop = (): void => void this.listeners.get(resource)?.delete(listener);
    // Replayed in this same turn, so no live change can slip in between history and live.
    for (const e of history.events) onEvent(e);
    return { stop };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    if (this.db.open) this.db.close();
  }

  /** Bytes of the database file and its WAL, for the benchmark's bytes-per-object figure. */
  sizeOnDisk(): { pages: number; pageSize: number } {
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    return { pages, pageSize };
  }

  private selectRows(resource: string, options: ListOptions, limit: number | undefined): ListRow[] {
    const where = ["o.resource = ?"];
    const params: (string | number)[] = [resource];
    if (options.namespace !== undefined) {
      where.push("o.namespace = ?");
      params.push(options.namespace);
    }
    if (options.continueFrom) {
      where.push("(o.namespace, o.name) > (?, ?)");
      params.push(options.continueFrom.namespace, options.continueFrom.name);
    }
    for (const c of selectorConditions(options.labelSelector ?? [])) {
      where.push(c.sql);
      params.push(...c.params);
    }
    let sql = `SELECT o.namespace AS namespace, o.name AS name, o.body AS body FROM objects o WHERE ${where.join(" AND ")} ORDER BY o.namespace, o.name`;
    if (limit !== undefined) {
      sql += " LIMIT ?";
      params.push(limit);
    }
    return this.statement(sql).all(...params);
  }

  // Selector shapes repeat (the controller's informers send the same ones), so their
  // statements are prepared once; the cache is bounded against arbitrary selectors.
  private statement(sql: string): Database.Statement<unknown[], ListRow> {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      s = this.db.prepare<unknown[], ListRow>(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private insertLabels(id: number, labels: Record<string, string> | undefined): void {
    for (const [k, v] of Object.entries(labels ?? {})) this.stmt.addLabel.run(id, k, v);
  }

  private removeRow(id: number): void {
    this.stmt.remove.run(id);
    this.stmt.dropLabels.run(id);
  }

  private current(resource: string, namespace: string, name: string, expectedResourceVersion: string | undefined): KeyRow {
    const row = this.stmt.key.get(resource, namespace, name);
    if (!row) throw new StoreError("NotFound", `${describe(resource, namespace, name)} not found`);
    if (expectedResourceVersion !== undefined && expectedResourceVersion !== String(row.rv)) {
      throw new StoreError(
        "Conflict",
        `the object has been modified; please apply your changes to the latest version and try again (have resourceVersion ${row.rv}, got ${expectedResourceVersion})`,
      );
    }
    return row;
  }

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw translate(e);
    }
  }

  // One transaction per write. The in-memory counter is restored if the transaction rolls
  // back, so a failed write (a full disk) leaves no gap and no version is ever reused.
  private write<T>(f: () => T): T {
    const before = this.rv;
    try {
      const result = this.db.transaction(f)();
      this.afterCommit();
      return result;
    } catch (e) {
      this.rv = before;
      throw translate(e);
    }
  }

  private bump(): number {
    this.rv += 1;
    this.stmt.writeRv.run(this.rv);
    return this.rv;
  }

  private afterCommit(): void {
    this.writesSinceCheckpoint++;
    if (this.writesSinceCheckpoint >= CHECKPOINT_AFTER_WRITES) {
      setImmediate(() => this.checkpoint());
      this.writesSinceCheckpoint = -Infinity; // one scheduled checkpoint at a time
    } else if (!this.checkpointTimer) {
      this.checkpointTimer = setTimeout(() => this.checkpoint(), CHECKPOINT_DELAY_MS);
      this.checkpointTimer.unref();
    }
  }

  private checkpoint(): void {
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.writesSinceCheckpoint = 0;
    if (!this.db.open) return;
    try {
      this.db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // A failed checkpoint (disk full) is retried after the next writes; the WAL stays valid.
    }
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    const set = this.listeners.get(event.resource);
    if (!set) return;
    // The write is committed: a failing listener (a broken watch) must not turn it into an error.
    for (const listener of set) {
      try {
        listener.onEvent(event);
      } catch {
        set.delete(listener);
      }
    }
  }
}

function cut(items: ListedItem[], limit: number | undefined): { items: ListedItem[]; more: boolean } {
  if (limit === undefined || items.length <= limit) return { items, more: false };
  return { items: items.slice(0, limit), more: true };
}
