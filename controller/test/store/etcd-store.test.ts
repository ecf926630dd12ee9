// The etcd store on a real etcd: the shared Store contract (the same suite SQLite passes),
// then what only etcd has (other writers on the same etcd, its compaction, its errors).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdStore } from "../../src/store/etcd-store.js";
import type { StoreEvent } from "../../src/store/store.js";
import { startEtcdCluster, type EtcdCluster } from "./etcd-server.js";
import { obj, storeContract } from "./store-contract.js";

let etcd: EtcdCluster;
let run = 0;
beforeAll(async () => {
  etcd = await startEtcdCluster(1);
}, 60_000);
afterAll(async () => {
  await etcd?.stop();
});

// Each test gets its own key prefix on the one etcd; a reopen is a new client on the same prefix.
storeContract("EtcdStore", true, async ({ history }) => {
  const prefix = `/zlh-test-${++run}/`;
  const open = (): EtcdStore => new EtcdStore({ endpoints: etcd.endpoints, prefix, retainRevisions: history });
  let store = open();
  return {
    store,
    reopen: async () => {
      await store.close();
      store = open();
      return store;
    },
    dispose: async () => {
      await store.close();
    },
  };
});

describe("EtcdStore on a shared etcd", () => {
  const R = "gameservers.zerolaghub.dev";

  it("sees another server's writes: lists, watches and conflicts across two clients", async () => {
    const prefix = `/zlh-shared-${++run}/`;
    const a = new EtcdStore({ endpoints: etcd.endpoints, prefix });
    const b = new EtcdStore({ endpoints: etcd.endpoints, prefix });
    try {
      const seen: StoreEvent[] = [];
      const w = b.watch(R, await b.resourceVersion(), (e) => seen.push(e));
      const made = await a.create(R, obj("x", { k: "v" }));
      expect((await b.get(R, "default", "x"))?.metadata.resourceVersion).toBe(made.metadata.resourceVersion);
      const changed = await b.update(R, obj("x", { k: "w" }), { expectedResourceVersion: made.metadata.resourceVersion! });
      await expect(a.update(R, obj("x", { k: "z" }), { expectedResourceVersion: made.metadata.resourceVersion! })).rejects.toMatchObject({ reason: "Conflict" });
      await expect.poll(() => seen.map((e) => e.type)).toEqual(["ADDED", "MODIFIED"]);
      expect(seen[1]!.object.metadata.resourceVersion).toBe(changed.metadata.resourceVersion);
      expect(seen[1]!.previous?.metadata.labels).toEqual({ k: "v" });
      w.stop();
      // Keys of another prefix are not this store's objects.
      const other = new EtcdStore({ endpoints: etcd.endpoints, prefix: `${prefix}other/` });
      expect(await other.count()).toBe(0);
      await other.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("keeps resourceVersion out of the stored value: it is the key's mod revision", async () => {
    const prefix = `/zlh-raw-${++run}/`;
    const s = new EtcdStore({ endpoints: etcd.endpoints, prefix });
    try {
      const made = await s.create(R, { ...obj("y"), metadata: { name: "y", namespace: "default", resourceVersion: "999999" } });
      const raw = await s.client.get(`${prefix}${R}/default/y`).exec();
      expect(raw.kvs[0]!.mod_revision).toBe(made.metadata.resourceVersion);
      expect(JSON.parse(raw.kvs[0]!.value.toString())).toEqual({ metadata: { name: "y", namespace: "default" }, apiVersion: "zerolaghub.dev/v1alpha1", kind: "GameServer", spec: { n: 1 } });
    } finally {
      await s.close();
    }
  });
});
