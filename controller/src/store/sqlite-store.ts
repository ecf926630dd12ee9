// The embedded Store: one SQLite file (WAL) holding every object as JSON, plus the global
// resourceVersion counter. Watch history lives in memory only; after a restart older
// versions are expired and clients relist.
import Database from "better-sqlite3";
import { matchesLabels } from "./label-selector.js";
import { WatchHistory } from "./watch-history.js";
import {
  StoreError,
  type HistoryResult,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type StoredObject,
} from "./store.js";

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /** Events kept in memory for watch resume. */
  watchHistory?: number;
}

interface Row {
  rv: number;
  body: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  resource TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  rv INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (resource, namespace, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_by_age ON objects (resource, namespace, rv);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (key, value) VALUES ('resourceVersion', 0);
`;

function coordinates(object: StoredObject): { namespace: string; name: string } {
  return { namespace: object.metadata.namespace ?? "", name: object.metadata.name };
}

function describe(resource: string, namespace: string, name: string): string {
  return `${resource} ${namespace ? `${namespace}/` : ""}${name}`;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly history: WatchHistory;
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private rv: number;
  private readonly stmt;

  constructor(options: SqliteStoreOptions) {
    this.db = new Database(options.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    this.stmt = {
      get: this.db.prepare<[string, string, string], Row>("SELECT rv, body FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
      listAll: this.db.prepare<[string], Row>("SELECT rv, body FROM objects WHERE resource = ? ORDER BY namespace, name"),
      listNamespace: this.db.prepare<[string, string], Row>("SELECT rv, body FROM objects WHERE resource = ? AND namespace = ? ORDER BY name"),
      insert: this.db.prepare<[string, string, string, number, string]>("INSERT INTO objects (resource, namespace, name, rv, body) VALUES (?, ?, ?, ?, ?)"),
      replace: this.db.prepare<[number, string, string, string, string]>("UPDATE objects SET rv = ?, body = ? WHERE resource = ? AND namespace = ? AND name = ?"),
      remove: this.db.prepare<[string, string, string]>("DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
      oldest: this.db.prepare<[string, string, number], { name: string }>("SELECT name FROM objects WHERE resource = ? AND namespace = ? ORDER BY rv ASC LIMIT ?"),
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

  get(resource: string, namespace: string, name: string): StoredObject | undefined {
    const row = this.stmt.get.get(resource, namespace, name);
    return row ? (JSON.parse(row.body) as StoredObject) : undefined;
  }

  list(resource: string, options: ListOptions = {}): ListResult {
    const rows = options.namespace === undefined ? this.stmt.listAll.all(resource) : this.stmt.listNamespace.all(resource, options.namespace);
    const selector = options.labelSelector ?? [];
    const items: StoredObject[] = [];
    for (const row of rows) {
      const object = JSON.parse(row.body) as StoredObject;
      if (selector.length === 0 || matchesLabels(selector, object.metadata.labels)) items.push(object);
    }
    return { items, resourceVersion: String(this.rv) };
  }

  create(resource: string, object: StoredObject): StoredObject {
    const { namespace, name } = coordinates(object);
    const stored = this.db.transaction(() => {
      if (this.stmt.get.get(resource, namespace, name)) throw new StoreError("AlreadyExists", `${describe(resource, namespace, name)} already exists`);
      const rv = this.bump();
      const next = withResourceVersion(object, rv);
      this.stmt.insert.run(resource, namespace, name, rv, JSON.stringify(next));
      return next;
    })();
    this.emit({ type: "ADDED", resource, object: stored, resourceVersion: Number(stored.metadata.resourceVersion) });
    return structuredClone(stored);
  }

  update(resource: string, object: StoredObject, expectedResourceVersion?: string): StoredObject {
    const { namespace, name } = coordinates(object);
    let previous: StoredObject | undefined;
    const stored = this.db.transaction(() => {
      const row = this.current(resource, namespace, name, expectedResourceVersion);
      previous = JSON.parse(row.body) as StoredObject;
      const rv = this.bump();
      const next = withResourceVersion(object, rv);
      this.stmt.replace.run(rv, JSON.stringify(next), resource, namespace, name);
      return next;
    })();
    this.emit({ type: "MODIFIED", resource, object: stored, previous, resourceVersion: Number(stored.metadata.resourceVersion) });
    return structuredClone(stored);
  }

  delete(resource: string, namespace: string, name: string, expectedResourceVersion?: string): StoredObject {
    const gone = this.db.transaction(() => {
      const row = this.current(resource, namespace, name, expectedResourceVersion);
      const rv = this.bump();
      this.stmt.remove.run(resource, namespace, name);
      return withResourceVersion(JSON.parse(row.body) as StoredObject, rv);
    })();
    this.emit({ type: "DELETED", resource, object: gone, resourceVersion: Number(gone.metadata.resourceVersion) });
    return structuredClone(gone);
  }

  pruneOldest(resource: string, namespace: string, keep: number): number {
    const excess = this.stmt.countNamespace.get(resource, namespace)!.n - keep;
    if (excess <= 0) return 0;
    const names = this.stmt.oldest.all(resource, namespace, excess).map((r) => r.name);
    for (const name of names) this.delete(resource, namespace, name);
    return names.length;
  }

  count(resource?: string): number {
    return (resource === undefined ? this.stmt.countAll.get() : this.stmt.countResource.get(resource))!.n;
  }

  namespaces(): string[] {
    return this.stmt.namespaces.all().map((r) => r.namespace);
  }

  resourceVersion(): number {
    return this.rv;
  }

  eventsSince(after: number, resource?: string): HistoryResult {
    return this.history.since(after, this.rv, resource);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }

  private current(resource: string, namespace: string, name: string, expectedResourceVersion: string | undefined): Row {
    const row = this.stmt.get.get(resource, namespace, name);
    if (!row) throw new StoreError("NotFound", `${describe(resource, namespace, name)} not found`);
    if (expectedResourceVersion !== undefined && expectedResourceVersion !== String(row.rv)) {
      throw new StoreError(
        "Conflict",
        `the object has been modified; please apply your changes to the latest version and try again (have resourceVersion ${row.rv}, got ${expectedResourceVersion})`,
      );
    }
    return row;
  }

  // Only called inside a write transaction: a rolled-back write leaves a gap in memory at
  // worst, never a reused version.
  private bump(): number {
    this.rv += 1;
    this.stmt.writeRv.run(this.rv);
    return this.rv;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    // The write is committed: a failing listener (a broken watch) must not turn it into an error.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}

function withResourceVersion(object: StoredObject, rv: number): StoredObject {
  const copy = structuredClone(object);
  copy.metadata.resourceVersion = String(rv);
  return copy;
}
