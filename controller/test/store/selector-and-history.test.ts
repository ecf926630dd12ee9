import { describe, expect, it } from "vitest";
import { matchesLabels, parseLabelSelector, SelectorError } from "../../src/store/label-selector.js";
import type { StoreEvent, StoredObject } from "../../src/store/store.js";
import { WatchHistory } from "../../src/store/watch-history.js";

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
