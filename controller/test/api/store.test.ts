import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { matchesLabels, parseLabelSelector, SelectorError } from "../../src/store/label-selector.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { StoreError, type StoreEvent, type StoredObject } from "../../src/store/store.js";
import { WatchHistory } from "../../src/store/watch-history.js";
import { makeDataDir, removeDir } from "./api-test-server.js";

const R = "gameservers.zerolaghub.dev";

function obj(name: string, labels?: Record<string, string>, namespace = "default"): StoredObject {
  return { apiVersion: "zerolaghub.dev/v1alpha1", kind: "GameServer", metadata: { name, namespace, ...(labels ? { labels } : {}) }, spec: { n: 1 } };
}

describe("label selectors", () => {
  const labels = { app: "mc", tier: "gold", "zerolaghub.dev/owner": "x" };
  it.each([
    ["", true],
    ["app=mc", true],
    ["app==mc", true],
    ["app=other", false],
    ["app!=other", true],
    ["missing!=x", true],
    ["app", true],
    ["!app", false],
    ["!missing", true],
    ["tier in (gold, silver)", true],
    ["tier in (silver)", false],
    ["tier notin (silver)", true],
    ["missing notin (silver)", true],
    ["missing in (silver)", false],
    ["app=mc,tier in (gold),!missing", true],
    ["zerolaghub.dev/owner=x", true],
  ])("%j matches the labels: %s", (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it.each(["app=", "=x", "a b", "tier in (gold", "tier in gold", "app=mc,", "a=b=c", "tier in (a b)"])("refuses the malformed selector %j", (selector) => {
    // "app=" is valid in Kubernetes (empty value), so it must parse; the rest must not.
    if (selector === "app=") {
      expect(parseLabelSelector(selector)).toEqual([{ key: "app", operator: "=", values: [""] }]);
      return;
    }
    expect(() => parseLabelSelector(selector)).toThrow(SelectorError);
  });
});

describe("watch history", () => {
  const ev = (rv: number): StoreEvent => ({ type: "ADDED", resource: R, object: obj(`o${rv}`), resourceVersion: rv });

  it("replays only the events after the requested version", () => {
    const h = new WatchHistory(10, 0);
    for (let rv = 1; rv <= 5; rv++) h.push(ev(rv));
    const r = h.since(3, 5);
    expect(r.expired).toBe(false);
    expect(r.expired ? [] : r.events.map((e) => e.resourceVersion)).toEqual([4, 5]);
  });

  it("expires versions that fell out of the ring and versions from the future", () => {
    const h = new WatchHistory(3, 0);
    for (let rv = 1; rv <= 6; rv++) h.push(ev(rv));
    expect(h.since(2, 6).expired).toBe(true);
    const ok = h.since(3, 6);
    expect(ok.expired ? [] : ok.events.map((e) => e.resourceVersion)).toEqual([4, 5, 6]);
    expect(h.since(7, 6).expired).toBe(true);
  });

  it("keeps one resource resumable while only other resources' events fell out of the ring", () => {
    const h = new WatchHistory(3, 0);
    h.push(ev(1));
    for (let rv = 2; rv <= 6; rv++) h.push({ ...ev(rv), resource: "events" });
    expect(h.since(1, 6, R)).toEqual({ expired: false, events: [] });
    expect(h.since(0, 6, R).expired).toBe(true);
    expect(h.since(2, 6, "events").expired).toBe(true);
    const r = h.since(3, 6, "events");
    expect(r.expired ? [] : r.events.map((e) => e.resourceVersion)).toEqual([4, 5, 6]);
  });

  it("treats everything before its start version as expired (a restarted server)", () => {
    const h = new WatchHistory(3, 40);
    expect(h.since(39, 40).expired).toBe(true);
    expect(h.since(40, 40)).toEqual({ expired: false, events: [] });
  });
});

describe("SqliteStore", () => {
  let dir = "";
  let store: SqliteStore | undefined;
  afterEach(() => {
    store?.close();
    removeDir(dir);
  });
  const open = (history = 100): SqliteStore => {
    store = new SqliteStore({ path: join(dir, "store.db"), watchHistory: history });
    return store;
  };

  it("assigns one global, increasing resourceVersion across resources and persists it", () => {
    dir = makeDataDir();
    const s = open();
    expect(s.create(R, obj("a")).metadata.resourceVersion).toBe("1");
    expect(s.create("leases.coordination.k8s.io", obj("b")).metadata.resourceVersion).toBe("2");
    expect(s.update(R, obj("a")).metadata.resourceVersion).toBe("3");
    s.delete(R, "default", "a");
    s.close();
    const again = open();
    expect(again.resourceVersion()).toBe(4);
    expect(again.create(R, obj("c")).metadata.resourceVersion).toBe("5");
    expect(again.get("leases.coordination.k8s.io", "default", "b")?.metadata.name).toBe("b");
  });

  it("refuses duplicates, missing objects and stale versions with a reason", () => {
    dir = makeDataDir();
    const s = open();
    s.create(R, obj("a"));
    const reason = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof StoreError ? e.reason : "other";
      }
      return undefined;
    };
    expect(reason(() => s.create(R, obj("a")))).toBe("AlreadyExists");
    expect(reason(() => s.update(R, obj("nope")))).toBe("NotFound");
    expect(reason(() => s.update(R, obj("a"), "999"))).toBe("Conflict");
    expect(reason(() => s.delete(R, "default", "a", "999"))).toBe("Conflict");
    expect(s.get(R, "default", "a")?.metadata.resourceVersion).toBe("1");
  });

  it("lists by namespace and label selector, and reports the namespaces in use", () => {
    dir = makeDataDir();
    const s = open();
    s.create(R, obj("a", { tier: "gold" }));
    s.create(R, obj("b", { tier: "silver" }));
    s.create(R, obj("c", { tier: "gold" }, "team-x"));
    expect(s.list(R, { labelSelector: parseLabelSelector("tier=gold") }).items.map((o) => o.metadata.name)).toEqual(["a", "c"]);
    expect(s.list(R, { namespace: "default" }).items.map((o) => o.metadata.name)).toEqual(["a", "b"]);
    expect(s.list(R).resourceVersion).toBe("3");
    expect(s.namespaces()).toEqual(["default", "team-x"]);
    expect(s.count(R)).toBe(3);
  });

  it("feeds subscribers and history with ADDED, MODIFIED (with the previous state) and DELETED", () => {
    dir = makeDataDir();
    const s = open();
    const seen: StoreEvent[] = [];
    const stop = s.subscribe((e) => seen.push(e));
    s.create(R, obj("a", { v: "1" }));
    s.update(R, obj("a", { v: "2" }));
    s.delete(R, "default", "a");
    stop();
    s.create(R, obj("b"));
    expect(seen.map((e) => [e.type, e.resourceVersion])).toEqual([["ADDED", 1], ["MODIFIED", 2], ["DELETED", 3]]);
    expect(seen[1]!.previous?.metadata.labels).toEqual({ v: "1" });
    const h = s.eventsSince(1);
    expect(h.expired ? [] : h.events.map((e) => e.type)).toEqual(["MODIFIED", "DELETED", "ADDED"]);
  });

  it("prunes the oldest objects of one namespace beyond the limit", () => {
    dir = makeDataDir();
    const s = open();
    for (let i = 0; i < 5; i++) s.create("events", obj(`e${i}`));
    s.create("events", obj("other", undefined, "team-x"));
    expect(s.pruneOldest("events", "default", 3)).toBe(2);
    expect(s.list("events", { namespace: "default" }).items.map((o) => o.metadata.name)).toEqual(["e2", "e3", "e4"]);
    expect(s.count("events")).toBe(4);
  });

  it("returns copies, so a caller mutating a result cannot change what is stored", () => {
    dir = makeDataDir();
    const s = open();
    const created = s.create(R, obj("a"));
    created.metadata.name = "mutated";
    (created.spec as { n: number }).n = 99;
    expect(s.get(R, "default", "a")?.spec).toEqual({ n: 1 });
  });
});
