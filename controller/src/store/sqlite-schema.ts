// The SQLite layout. Objects live in a rowid table with a unique index on their key: in a
// WITHOUT ROWID table every ~2 KB object overflowed into a 4 KiB page of its own (4.7 KiB
// per object on disk), while a rowid table packs several rows per page. Labels are kept
// beside the objects, indexed by (key, value), so label selectors are answered in SQL.
import type Database from "better-sqlite3";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  id INTEGER PRIMARY KEY,
  resource TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  rv INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_key ON objects (resource, namespace, name);
CREATE INDEX IF NOT EXISTS objects_by_version ON objects (resource, rv);
CREATE TABLE IF NOT EXISTS labels (
  object INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (object, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_by_value ON labels (key, value);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (key, value) VALUES ('resourceVersion', 0);
`;

/** Creates the tables, moving a store of the first layout (WITHOUT ROWID, no labels table) over once. */
export function prepareSchema(db: Database.Database): void {
  const existing = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'objects'").get();
  if (existing && /WITHOUT ROWID/i.test(existing.sql)) {
    db.transaction(() => {
      db.exec("ALTER TABLE objects RENAME TO objects_v1; DROP INDEX IF EXISTS objects_by_age;");
      db.exec(SCHEMA);
      db.exec("INSERT INTO objects (resource, namespace, name, rv, body) SELECT resource, namespace, name, rv, body FROM objects_v1 ORDER BY rv");
      db.exec("DROP TABLE objects_v1");
      const rows = db.prepare<[], { id: number; body: string }>("SELECT id, body FROM objects").all();
      const insert = db.prepare<[number, string, string]>("INSERT INTO labels (object, key, value) VALUES (?, ?, ?)");
      for (const row of rows) {
        const labels = (JSON.parse(row.body) as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
        for (const [k, v] of Object.entries(labels)) insert.run(row.id, k, v);
      }
    })();
    db.exec("VACUUM");
    return;
  }
  db.exec(SCHEMA);
}
