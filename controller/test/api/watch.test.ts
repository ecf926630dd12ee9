// Watches: resume, expiry, selectors, lifetimes (on an injected clock), bookmarks, slow
// consumers, and the client-node informer on top.
import { request } from "node:http";
import { CustomObjectsApi, makeInformer, PatchStrategy, setHeaderOptions, Watch, type KubernetesObject } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { gameServer, GROUP, gsPath, removeDir, startTestServer, VERSION, waitFor, type TestServer } from "./api-test-server.js";

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const coords = { group: GROUP, version: VERSION, namespace: "default", plural: "gameservers" };

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  code?: number;
}

/** A client-node Watch recording its events, and whether (and how) it ended. */
async function watch(t: TestServer, query: Record<string, string>, path = gsPath()): Promise<{ events: Seen[]; ended: () => { err: unknown } | undefined; abort: () => void }> {
  const events: Seen[] = [];
  let end: { err: unknown } | undefined;
  const controller = await new Watch(t.kc).watch(
    path,
    query,
    (type, obj: { metadata?: { name?: string; resourceVersion?: string }; code?: number }) =>
      events.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion, code: obj.code }),
    (err) => (end = { err }),
  );
  return { events, ended: () => end, abort: () => controller.abort() };
}

let servers: TestServer[] = [];
async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const t = await startTestServer(options);
  servers.push(t);
  return t;
}
afterEach(async () => {
  for (const t of servers) {
    await t.stop();
    removeDir(t.dataDir);
  }
  servers = [];
});

describe("watch", () => {
  it("starts with ADDED for current objects when resourceVersion is 0, then streams changes", async () => {
    const t = await server();
    const api = t.kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("a") });
    const w = await watch(t, { resourceVersion: "0" });
    await waitFor("initial ADDED", () => (w.events.length === 1 ? true : undefined));
    await api.patchNamespacedCustomObject({ ...coords, name: "a", body: { metadata: { labels: { x: "y" } } } }, merge);
    // A no-op write must not reach watchers.
    await api.patchNamespacedCustomObject({ ...coords, name: "a", body: { metadata: { labels: { x: "y" } } } }, merge);
    await api.deleteNamespacedCustomObject({ ...coords, name: "a" });
    await waitFor("3 events", () => (w.events.length === 3 ? true : undefined));
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(["ADDED a", "MODIFIED a", "DELETED a"]);
    w.abort();
  });

  it("resumes from a resourceVersion by replaying only the later events", async () => {
    const t = await server();
    const api = t.kc.makeApiClient(CustomObjectsApi);
    const a = await api.createNamespacedCustomObject({ ...coords, body: gameServer("a") });
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("b") });
    await api.patchNamespacedCustomObject({ ...coords, name: "a", body: { metadata: { labels: { v: "2" } } } }, merge);
    const w = await watch(t, { resourceVersion: a.metadata.resourceVersion });
    await waitFor("replay", () => (w.events.length === 2 ? true : undefined));
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(["ADDED b", "MODIFIED a"]);
    w.abort();
  });

  it("answers a resourceVersion older than the history with one 410 ERROR event, then closes", async () => {
    const t = await server({ watchHistory: 3 });
    const api = t.kc.makeApiClient(CustomObjectsApi);
    for (let i = 0; i < 6; i++) await api.createNamespacedCustomObject({ ...coords, body: gameServer(`o${i}`) });
    const w = await watch(t, { resourceVersion: "1" });
    await waitFor("the stream to end", () => w.ended());
    expect(w.events).toEqual([{ type: "ERROR", name: undefined, rv: undefined, code: 410 }]);
  });

  it("turns label changes into ADDED/DELETED for a watch with a labelSelector", async () => {
    const t = await server();
    const api = t.kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("a", { labels: { tier: "gold" } }) });
    const w = await watch(t, { resourceVersion: "0", labelSelector: "tier=gold" });
    await waitFor("initial", () => (w.events.length === 1 ? true : undefined));
    await api.patchNamespacedCustomObject({ ...coords, name: "a", body: { metadata: { labels: { tier: "silver" } } } }, merge);
    await api.patchNamespacedCustomObject({ ...coords, name: "a", body: { metadata: { labels: { note: "x" } } } }, merge);
    await api.patchNamespacedCustomObject({ ...coords, name: "a", body: { metadata: { labels: { tier: "gold" } } } }, merge);
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("b", { labels: { tier: "silver" } }) });
    await api.patchNamespacedCustomObject({ ...coords, name: "a", body: { metadata: { labels: { note: "y" } } } }, merge);
    await waitFor("4 events", () => (w.events.length === 4 ? true : undefined));
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(["ADDED a", "DELETED a", "ADDED a", "MODIFIED a"]);
    w.abort();
  });

  it("ends a watch after timeoutSeconds and after about maxWatchSeconds, on the injected clock", async () => {
    const clock = new FakeClock();
    const t = await server({ clock, maxWatchSeconds: 100 });
    const short = await watch(t, { resourceVersion: "0", timeoutSeconds: "5" });
    const long = await watch(t, { resourceVersion: "0" });
    await waitFor("timers armed", () => (clock.pendingTimers() === 2 ? true : undefined));
    clock.advance(4_999);
    await clock.flush();
    expect(short.ended()).toBeUndefined();
    clock.advance(1);
    await waitFor("the short watch to end", () => short.ended());
    expect(short.ended()?.err).toBeNull();
    clock.advance(89_000 - 5_000 - 1);
    await clock.flush();
    expect(long.ended()).toBeUndefined();
    clock.advance(22_001);
    await waitFor("the long watch to end", () => long.ended());
    expect(long.ended()?.err).toBeNull();
  });

  it("sends BOOKMARK events carrying the current resourceVersion when allowed", async () => {
    const clock = new FakeClock();
    const t = await server({ clock, bookmarkSeconds: 30 });
    const api = t.kc.makeApiClient(CustomObjectsApi);
    const created = await api.createNamespacedCustomObject({ ...coords, body: gameServer("a") });
    const w = await watch(t, { resourceVersion: created.metadata.resourceVersion, allowWatchBookmarks: "true" });
    await waitFor("timers armed", () => (clock.pendingTimers() === 2 ? true : undefined));
    clock.advance(30_000);
    await waitFor("a bookmark", () => (w.events.length === 1 ? true : undefined));
    expect(w.events[0]).toMatchObject({ type: "BOOKMARK", rv: created.metadata.resourceVersion });
    w.abort();
  });

  it("closes the watch of a consumer that stops reading instead of buffering without bound", async () => {
    const t = await server({ watchBufferBytes: 256 * 1024 });
    const api = t.kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("big") });
    const url = new URL(t.api.url);
    let ended = false;
    let received = 0;
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const r = request({ host: url.hostname, port: url.port, path: `${gsPath()}?watch=true&resourceVersion=1`, headers: { Authorization: `Bearer ${t.api.token}` } }, resolve);
      r.on("error", reject);
      r.end();
    });
    res.pause();
    const watches = async (): Promise<number> => Number(/^zlh_apiserver_watches (\d+)$/m.exec((await t.raw("GET", "/metrics")).text)?.[1]);
    expect(await watches()).toBe(1);
    const filler = "x".repeat(256 * 1024);
    // Enough unread data to fill the kernel's socket buffers and then the server's cap.
    for (let i = 0; i < 128 && (await watches()) === 1; i++) {
      await api.patchNamespacedCustomObject({ ...coords, name: "big", body: { metadata: { annotations: { filler: `${i}${filler}` } } } }, merge);
    }
    await waitFor("the server to drop the watch", async () => ((await watches()) === 0 ? true : undefined));
    res.on("data", (c: Buffer) => (received += c.length));
    res.on("end", () => (ended = true));
    res.resume();
    await waitFor("the stream to end cleanly", () => (ended ? true : undefined));
    expect(received).toBeGreaterThan(256 * 1024);
  });

  it("closes the slowest watches first when all watches together queue more than the global cap", async () => {
    const t = await server({ watchBufferBytes: 64 * 1024 * 1024, watchTotalBufferBytes: 2 * 1024 * 1024 });
    const api = t.kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("big") });
    const url = new URL(t.api.url);
    const open = (): Promise<import("node:http").IncomingMessage> =>
      new Promise((resolve, reject) => {
        const r = request({ host: url.hostname, port: url.port, path: `${gsPath()}?watch=true&resourceVersion=1`, headers: { Authorization: `Bearer ${t.api.token}` } }, resolve);
        r.on("error", reject);
        r.end();
      });
    const stalled = [await open(), await open(), await open()];
    for (const s of stalled) s.pause();
    // One healthy watch that reads everything.
    const reader = await open();
    let readerText = "";
    reader.on("data", (c: Buffer) => (readerText += c.toString()));
    const watches = async (): Promise<number> => Number(/^zlh_apiserver_watches (\d+)$/m.exec((await t.raw("GET", "/metrics")).text)?.[1]);
    expect(await watches()).toBe(4);
    const filler = "x".repeat(256 * 1024);
    // Each stalled watch stays far under its own 64 MiB cap; together they cross the 2 MiB one.
    for (let i = 0; i < 128 && (await watches()) === 4; i++) {
      await api.patchNamespacedCustomObject({ ...coords, name: "big", body: { metadata: { annotations: { filler: `${i}${filler}` } } } }, merge);
    }
    await waitFor("a stalled watch to be dropped", async () => ((await watches()) < 4 ? true : undefined));
    expect(readerText).not.toContain('"type":"ERROR"');
    const metrics = (await t.raw("GET", "/metrics")).text;
    expect(Number(/^zlh_apiserver_watches_closed_slow (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    // A dropped consumer that reads on finds the reason at the end of its stream.
    const texts = stalled.map(() => "");
    stalled.forEach((s, i) => {
      s.on("data", (c: Buffer) => (texts[i] += c.toString()));
      s.resume();
    });
    const reason = await waitFor("the reason at the end of a dropped stream", () => texts.find((x) => x.includes('"type":"ERROR"')));
    expect(reason).toMatch(/watches together queued more than 2097152 bytes/);
    for (const s of stalled) s.destroy();
    reader.destroy();
  });

  it("serves Table events to kubectl-style watches", async () => {
    const t = await server();
    const api = t.kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("a") });
    await api.patchNamespacedCustomObjectStatus({ ...coords, name: "a", body: { status: { phase: "Running" } } }, merge);
    const url = new URL(t.api.url);
    const line = await new Promise<string>((resolve, reject) => {
      const r = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${gsPath()}?watch=true&resourceVersion=0`,
          headers: { Authorization: `Bearer ${t.api.token}`, Accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" },
        },
        (res) => {
          let buf = "";
          res.on("data", (c: Buffer) => {
            buf += c.toString();
            const nl = buf.indexOf("\n");
            if (nl >= 0) {
              resolve(buf.slice(0, nl));
              r.destroy();
            }
          });
        },
      );
      r.on("error", reject);
      r.end();
    });
    const event = JSON.parse(line);
    expect(event.type).toBe("ADDED");
    expect(event.object.kind).toBe("Table");
    expect(event.object.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(["Name", "Phase", "VMID", "Host", "Age", "IP", "Workload", "Agent", "Restarts"]);
    expect(event.object.rows[0].cells.slice(0, 2)).toEqual(["a", "Running"]);
  });
});

describe("informer", () => {
  it("delivers the initial list and live add, update and delete through makeInformer", async () => {
    const t = await server();
    const api = t.kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("pre") });
    const informer = makeInformer<KubernetesObject>(t.kc, gsPath(), () => api.listNamespacedCustomObject(coords));
    const log: string[] = [];
    const errors: unknown[] = [];
    informer.on("add", (o) => log.push(`add ${o.metadata?.name}`));
    informer.on("update", (o) => log.push(`update ${o.metadata?.name}`));
    informer.on("delete", (o) => log.push(`delete ${o.metadata?.name}`));
    informer.on("error", (e) => errors.push(e));
    await informer.start();
    await waitFor("initial add", () => (log.includes("add pre") ? true : undefined));
    await api.createNamespacedCustomObject({ ...coords, body: gameServer("live") });
    await api.patchNamespacedCustomObject({ ...coords, name: "live", body: { metadata: { labels: { a: "b" } } } }, merge);
    await api.deleteNamespacedCustomObject({ ...coords, name: "pre" });
    await waitFor("live events", () => (log.length === 4 ? true : undefined));
    expect(log).toEqual(["add pre", "add live", "update live", "delete pre"]);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["live"]);
    expect(errors).toEqual([]);
    await informer.stop();
  });
});
