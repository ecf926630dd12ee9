// The Store contract (controller/src/store/store.ts) as one suite, run against every
// backend: today SQLite (sqlite-store.test.ts); an etcd store runs the same function.
// Everything here goes through the Store interface only.
import { afterEach, describe, expect, it } from "vitest";
import { parseLabelSelector } from "../../src/store/label-selector.js";
import { StoreError, type ListContinuation, type ListOptions, type Store, type StoreEvent, type StoredObject } from "../../src/store/store.js";

export interface StoreUnderTest {
  store: Store;
  /** Closes the store and opens the same data again (a restart), when the backend persists. */
  reopen?: () => Promise<Store>;
  dispose(): Promise<void>;
}

export interface StoreContractOptions {
  /** How many recent changes the backend should retain for watch resume and list snapshots. */
  history: number;
}

const R = "gameservers.zerolaghub.dev";
const OTHER = "leases.coordination.k8s.io";

export function obj(name: string, labels?: Record<string, string>, namespace = "default", spec: unknown = { n: 1 }): StoredObject {
  return { apiVersion: "zerolaghub.dev/v1alpha1", kind: "GameServer", metadata: { name, namespace, ...(labels ? { labels } : {}) }, spec };
}

async function reasonOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e instanceof StoreError ? e.reason : `other: ${String(e)}`;
  }
  return undefined;
}

const rvOf = (o: StoredObject): number => Number(o.metadata.resourceVersion);
const names = (r: { items: { name: string }[] }): string[] => r.items.map((i) => i.name);

/** All pages of a list, `between` run after each page (to change the store mid-list). */
async function allPages(store: Store, options: ListOptions, limit: number, between: (page: number) => Promise<void> = async () => {}): Promise<{ names: string[]; versions: string[] }> {
  const out: string[] = [];
  const versions: string[] = [];
  let continueFrom: ListContinuation | undefined;
  for (let page = 0; ; page++) {
    const r = await store.list(R, { ...options, limit, continueFrom });
    expect(r.items.length).toBeLessThanOrEqual(limit);
    out.push(...names(r));
    versions.push(r.resourceVersion);
    if (!r.more) return { names: out, versions };
    const last = r.items[r.items.length - 1]!;
    continueFrom = { resourceVersion: r.resourceVersion, namespace: last.namespace, name: last.name };
    await between(page);
  }
}

function recorder(store: Store, resource: string, after: string): { events: StoreEvent[]; stop: () => void } {
  const events: StoreEvent[] = [];
  const w = store.watch(resource, after, (e) => events.push(e));
  return { events, stop: () => w.stop() };
}

/** `persistent`: the backend keeps its data across a close and reopen (then `reopen` must be given). */
export function storeContract(name: string, persistent: boolean, open: (options: StoreContractOptions) => Promise<StoreUnderTest>): void {
  describe(`${name} satisfies the Store contract`, () => {
    let current: StoreUnderTest | undefined;
    const start = async (history = 100): Promise<Store> => {
      current = await open({ history });
      return current.store;
    };
    afterEach(async () => {
      await current?.dispose();
      current = undefined;
    });

    it("issues increasing integer resourceVersions across resources", async () => {
      const s = await start();
      const a = await s.create(R, obj("a"));
      const b = await s.create(OTHER, obj("b"));
      const a2 = await s.update(R, obj("a", { v: "2" }), { expectedResourceVersion: a.metadata.resourceVersion! });
      for (const o of [a, b, a2]) expect(o.metadata.resourceVersion).toMatch(/^\d+$/);
      expect(rvOf(b)).toBeGreaterThan(rvOf(a));
      expect(rvOf(a2)).toBeGreaterThan(rvOf(b));
      expect(Number(await s.resourceVersion())).toBe(rvOf(a2));
      expect((await s.get(R, "default", "a"))?.metadata).toMatchObject({ resourceVersion: a2.metadata.resourceVersion, labels: { v: "2" } });
      const gone = await s.delete(R, "default", "a");
      expect(rvOf(gone)).toBeGreaterThan(rvOf(a2));
      expect(gone.metadata.labels).toEqual({ v: "2" });
      expect(await s.get(R, "default", "a")).toBeUndefined();
    });

    it("refuses duplicates, missing objects and stale versions, changing nothing", async () => {
      const s = await start();
      const a = await s.create(R, obj("a"));
      expect(await reasonOf(s.create(R, obj("a", { x: "y" })))).toBe("AlreadyExists");
      expect(await reasonOf(s.update(R, obj("nope"), { expectedResourceVersion: "1" }))).toBe("NotFound");
      expect(await reasonOf(s.update(R, obj("a", { x: "y" }), { expectedResourceVersion: String(rvOf(a) + 100) }))).toBe("Conflict");
      expect(await reasonOf(s.delete(R, "default", "a", String(rvOf(a) + 100)))).toBe("Conflict");
      expect(await reasonOf(s.delete(R, "default", "nope"))).toBe("NotFound");
      expect(await s.get(R, "default", "a")).toEqual(a);
      expect(await s.resourceVersion()).toBe(a.metadata.resourceVersion);
    });

    it("lets exactly one of two writers holding the same version win (compare-and-swap)", async () => {
      const s = await start();
      const a = await s.create(R, obj("a"));
      const results = await Promise.allSettled([
        s.update(R, obj("a", { w: "1" }), { expectedResourceVersion: a.metadata.resourceVersion! }),
        s.update(R, obj("a", { w: "2" }), { expectedResourceVersion: a.metadata.resourceVersion! }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(StoreError);
      expect((lost.reason as StoreError).reason).toBe("Conflict");
    });

    it("lists in key order by namespace and by every label selector operator", async () => {
      const s = await start();
      await s.create(R, obj("b", { tier: "gold", app: "mc" }));
      await s.create(R, obj("a", { tier: "silver" }));
      await s.create(R, obj("c", { tier: "gold" }, "team-x"));
      await s.create(R, obj("d", undefined, "team-x"));
      await s.create(OTHER, obj("z", { tier: "gold" }));
      const sel = async (selector: string, namespace?: string): Promise<string[]> => names(await s.list(R, { labelSelector: parseLabelSelector(selector), namespace }));
      expect(await sel("")).toEqual(["a", "b", "c", "d"]);
      expect(await sel("", "team-x")).toEqual(["c", "d"]);
      expect(await sel("tier=gold")).toEqual(["b", "c"]);
      expect(await sel("tier!=gold")).toEqual(["a", "d"]);
      expect(await sel("tier in (gold, silver)")).toEqual(["a", "b", "c"]);
      expect(await sel("tier notin (gold)")).toEqual(["a", "d"]);
      expect(await sel("app")).toEqual(["b"]);
      expect(await sel("!app")).toEqual(["a", "c", "d"]);
      expect(await sel("tier=gold,app=mc")).toEqual(["b"]);
      expect(await sel("tier=gold", "team-x")).toEqual(["c"]);
      const all = await s.list(R);
      expect(Number(all.resourceVersion)).toBe(Number(await s.resourceVersion()));
      expect(all.more).toBe(false);
      expect(all.items.map((i) => i.namespace)).toEqual(["default", "default", "team-x", "team-x"]);
      // Items are the stored JSON, with their resourceVersion.
      const parsed = JSON.parse(all.items[0]!.json) as StoredObject;
      expect(parsed).toEqual(await s.get(R, "default", "a"));
      expect(await s.namespaces()).toEqual(["default", "team-x"]);
      expect(await s.count(R)).toBe(4);
      expect(await s.count(R, "team-x")).toBe(2);
      expect(await s.count()).toBe(5);
    });

    it("follows label changes in selector lists", async () => {
      const s = await start();
      const a = await s.create(R, obj("a", { tier: "gold" }));
      await s.update(R, obj("a", { tier: "silver" }), { expectedResourceVersion: a.metadata.resourceVersion! });
      expect(names(await s.list(R, { labelSelector: parseLabelSelector("tier=gold") }))).toEqual([]);
      expect(names(await s.list(R, { labelSelector: parseLabelSelector("tier=silver") }))).toEqual(["a"]);
      await s.delete(R, "default", "a");
      expect(names(await s.list(R, { labelSelector: parseLabelSelector("tier") }))).toEqual([]);
    });

    it("pages a list with limit and continuation, each item exactly once", async () => {
      const s = await start();
      for (const ns of ["a", "b"]) for (let i = 0; i < 7; i++) await s.create(R, obj(`o${i}`, { even: String(i % 2 === 0) }, ns));
      const everything = names(await s.list(R));
      expect(everything).toHaveLength(14);
      for (const limit of [1, 3, 14, 20]) expect((await allPages(s, {}, limit)).names).toEqual(everything);
      expect((await allPages(s, { namespace: "b", labelSelector: parseLabelSelector("even=true") }, 2)).names).toEqual(["o0", "o2", "o4", "o6"]);
    });

    it("shows every page of a list at the first page's version, whatever changes in between", async () => {
      const s = await start();
      const made: StoredObject[] = [];
      for (let i = 0; i < 9; i++) made.push(await s.create(R, obj(`o${i}`, { keep: "yes" })));
      const before = names(await s.list(R, { labelSelector: parseLabelSelector("keep=yes") }));
      const paged = await allPages(s, { labelSelector: parseLabelSelector("keep=yes") }, 2, async (page) => {
        if (page !== 0) return;
        // After the first page: delete one ahead, add one ahead, relabel one ahead, change one behind.
        await s.delete(R, "default", "o5");
        await s.create(R, obj("o55", { keep: "yes" }));
        await s.update(R, obj("o7", { keep: "no" }), { expectedResourceVersion: made[7]!.metadata.resourceVersion! });
        await s.update(R, obj("o0", { keep: "yes" }, "default", { n: 2 }), { expectedResourceVersion: made[0]!.metadata.resourceVersion! });
      });
      expect(paged.names).toEqual(before);
      expect(new Set(paged.versions).size).toBe(1);
      // A fresh list sees the changes.
      expect(names(await s.list(R, { labelSelector: parseLabelSelector("keep=yes") }))).toEqual(["o0", "o1", "o2", "o3", "o4", "o55", "o6", "o8"]);
    });

    it("refuses to continue a list from a version no longer retained", async () => {
      const s = await start(3);
      for (let i = 0; i < 4; i++) await s.create(R, obj(`o${i}`));
      const first = await s.list(R, { limit: 2 });
      for (let i = 0; i < 5; i++) await s.create(R, obj(`p${i}`));
      const last = first.items[1]!;
      expect(await reasonOf(s.list(R, { limit: 2, continueFrom: { resourceVersion: first.resourceVersion, namespace: last.namespace, name: last.name } }))).toBe("Expired");
    });

    it("watches one resource from a version: history first, then live, with previous states", async () => {
      const s = await start();
      const a = await s.create(R, obj("a", { v: "1" }));
      await s.create(OTHER, obj("lease"));
      const a2 = await s.update(R, obj("a", { v: "2" }), { expectedResourceVersion: a.metadata.resourceVersion! });
      const w = recorder(s, R, a.metadata.resourceVersion!);
      await s.create(R, obj("b"));
      const gone = await s.delete(R, "default", "a");
      await s.create(OTHER, obj("lease2"));
      await expect.poll(() => w.events.length).toBe(3);
      expect(w.events.map((e) => [e.type, e.object.metadata.name, e.resourceVersion])).toEqual([
        ["MODIFIED", "a", rvOf(a2)],
        ["ADDED", "b", rvOf(a2) + 1],
        ["DELETED", "a", rvOf(gone)],
      ]);
      expect(w.events[0]!.previous?.metadata.labels).toEqual({ v: "1" });
      expect(w.events[2]!.object.metadata.resourceVersion).toBe(gone.metadata.resourceVersion);
      expect(w.events[2]!.previous?.metadata.resourceVersion).toBe(a2.metadata.resourceVersion);
      w.stop();
      await s.create(R, obj("c"));
      expect(w.events).toHaveLength(3);
    });

    it("answers Expired for a watch from a version older than the history", async () => {
      const s = await start(3);
      for (let i = 0; i < 6; i++) await s.create(R, obj(`o${i}`));
      const expired = async (after: string): Promise<string | undefined> => {
        let reported: string | undefined;
        const thrown = await reasonOf(() => s.watch(R, after, () => {}, (e) => (reported = e.reason)));
        if (thrown !== undefined) return thrown;
        // A remote backend learns it only from its server: it reports through onError.
        await expect.poll(() => reported).toBeDefined();
        return reported;
      };
      expect(await expired("1")).toBe("Expired");
      expect(await expired(String(Number(await s.resourceVersion()) + 1000))).toBe("Expired");
      const ok = recorder(s, R, String(Number(await s.resourceVersion()) - 2));
      await expect.poll(() => ok.events.length).toBe(2);
      ok.stop();
    });

    it("prunes the oldest objects of one namespace, or across all, as changes watchers see", async () => {
      const s = await start();
      const w = recorder(s, "events", await s.resourceVersion());
      for (let i = 0; i < 5; i++) await s.create("events", obj(`e${i}`));
      for (let i = 0; i < 3; i++) await s.create("events", obj(`x${i}`, undefined, "team-x"));
      expect(await s.pruneOldest("events", 3, "default")).toBe(2);
      expect(names(await s.list("events", { namespace: "default" }))).toEqual(["e2", "e3", "e4"]);
      expect(await s.pruneOldest("events", 4)).toBe(2);
      expect(names(await s.list("events"))).toEqual(["e4", "x0", "x1", "x2"]);
      expect(await s.pruneOldest("events", 10)).toBe(0);
      await expect.poll(() => w.events.filter((e) => e.type === "DELETED").map((e) => e.object.metadata.name)).toEqual(["e0", "e1", "e2", "e3"]);
      w.stop();
    });

    it("hands out copies: changing a returned object changes nothing stored", async () => {
      const s = await start();
      const created = await s.create(R, obj("a"));
      created.metadata.name = "mutated";
      (created.spec as { n: number }).n = 99;
      const got = (await s.get(R, "default", "a"))!;
      (got.spec as { n: number }).n = 98;
      expect((await s.get(R, "default", "a"))?.spec).toEqual({ n: 1 });
    });

    it.runIf(persistent)("keeps objects and never reuses a resourceVersion across a restart", async () => {
      const s = await start();
      expect(current?.reopen).toBeDefined();
      await s.create(R, obj("a", { k: "v" }));
      const b = await s.create(OTHER, obj("b"));
      const again = await current!.reopen!();
      expect(Number(await again.resourceVersion())).toBeGreaterThanOrEqual(rvOf(b));
      expect((await again.get(R, "default", "a"))?.metadata.labels).toEqual({ k: "v" });
      expect(names(await again.list(R, { labelSelector: parseLabelSelector("k=v") }))).toEqual(["a"]);
      const c = await again.create(R, obj("c"));
      expect(rvOf(c)).toBeGreaterThan(rvOf(b));
    });
  });
}
