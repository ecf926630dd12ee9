// The SQLite store: the shared Store contract, plus what only SQLite has (its file layout,
// the move from the first layout, a full database).
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseLabelSelector } from "../../src/store/label-selector.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { StoreError } from "../../src/store/store.js";
import { makeDataDir, removeDir } from "../api/api-test-server.js";
import { obj, storeContract } from "./store-contract.js";

storeContract("SqliteStore", true, async ({ history }) => {
  const dir = makeDataDir();
  const path = join(dir, "store.db");
  let store = new SqliteStore({ path, watchHistory: history });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = new SqliteStore({ path, watchHistory: history });
      return store;
    },
    dispose: async () => {
      await store.close();
      removeDir(dir);
    },
  };
});

describe("SqliteStore on disk", () => {
  let dir = "";
  afterEach(() => removeDir(dir));

  it("moves a store of the first layout (WITHOUT ROWID, no label table) over, keeping objects, labels and versions", async () => {
    dir = makeDataDir();
    const path = join(dir, "store.db");
    const old = new Database(path);
    old.exec(`CREATE TABLE objects (resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, rv INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID;
      CREATE INDEX objects_by_age ON objects (resource, namespace, rv);
      CREATE TABLE counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO counters VALUES ('resourceVersion', 7);`);
    const insert = old.prepare("INSERT INTO objects VALUES (?, ?, ?, ?, ?)");
    insert.run("gameservers.zerolaghub.dev", "default", "a", 5, JSON.stringify({ ...obj("a", { tier: "gold" }), metadata: { name: "a", namespace: "default", labels: { tier: "gold" }, resourceVersion: "5" } }));
    insert.run("gameservers.zerolaghub.dev", "default", "b", 7, JSON.stringify({ ...obj("b"), metadata: { name: "b", namespace: "default", resourceVersion: "7" } }));
    old.close();
    const s = new SqliteStore({ path });
    try {
      expect(await s.resourceVersion()).toBe("7");
      expect((await s.list("gameservers.zerolaghub.dev", { labelSelector: parseLabelSelector("tier=gold") })).items.map((i) => i.name)).toEqual(["a"]);
      expect((await s.create("gameservers.zerolaghub.dev", obj("c"))).metadata.resourceVersion).toBe("8");
    } finally {
      await s.close();
    }
    const check = new Database(path, { readonly: true });
    expect(check.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'objects'").get()!.sql).not.toMatch(/WITHOUT ROWID/);
    check.close();
  });

  it("answers StorageFull ('database or disk is full') when the database cannot grow, and recovers once it can", async () => {
    dir = makeDataDir();
    const path = join(dir, "store.db");
    const s = new SqliteStore({ path, maxPageCount: 40 });
    try {
      let failure: unknown;
      let stored = 0;
      for (let i = 0; i < 1000 && failure === undefined; i++) {
        try {
          await s.create("gameservers.zerolaghub.dev", obj(`o${i}`, undefined, "default", { filler: "x".repeat(2000) }));
          stored++;
        } catch (e) {
          failure = e;
        }
      }
      expect(failure).toBeInstanceOf(StoreError);
      expect(failure).toMatchObject({ reason: "StorageFull", message: "database or disk is full" });
      // The failed write left no trace and no gap in the versions.
      expect(await s.count("gameservers.zerolaghub.dev")).toBe(stored);
      expect(await s.resourceVersion()).toBe(String(stored));
      await s.delete("gameservers.zerolaghub.dev", "default", "o0");
      await s.delete("gameservers.zerolaghub.dev", "default", "o1");
      expect((await s.create("gameservers.zerolaghub.dev", obj("small"))).metadata.resourceVersion).toBe(String(stored + 3));
    } finally {
      await s.close();
    }
  });
});
