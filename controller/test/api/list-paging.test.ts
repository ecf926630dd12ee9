// Lists over HTTP: limit/continue with Kubernetes semantics, label selectors, Tables with
// includeObject, and the raw stored JSON coming back intact.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gameServer, gsPath, startTestServer, type TestServer } from "./api-test-server.js";

describe("lists", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ watchHistory: 50 });
    for (let i = 0; i < 12; i++) {
      const r = await t.raw("POST", gsPath(), { body: gameServer(`gs-${String(i).padStart(2, "0")}`, { labels: { shard: String(i % 3) } }) });
      expect(r.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.dispose();
  });

  const names = (items: { metadata: { name: string } }[]): string[] => items.map((o) => o.metadata.name);

  it("pages with limit and continue, every page at the first page's resourceVersion", async () => {
    const seen: string[] = [];
    const versions = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await t.raw("GET", `${gsPath()}?limit=5${token ? `&continue=${encodeURIComponent(token)}` : ""}`);
      expect(r.status).toBe(200);
      expect(r.json.kind).toBe("GameServerList");
      seen.push(...names(r.json.items));
      versions.add(r.json.metadata.resourceVersion);
      token = r.json.metadata.continue;
      if (pages === 0) {
        // A change after the first page does not show on the later ones.
        expect((await t.raw("DELETE", gsPath("default", "gs-11"))).status).toBe(200);
        expect((await t.raw("POST", gsPath(), { body: gameServer("gs-99") })).status).toBe(201);
      }
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `gs-${String(i).padStart(2, "0")}`));
    expect(versions.size).toBe(1);
    const fresh = names((await t.raw("GET", gsPath())).json.items);
    expect(fresh).toContain("gs-99");
    expect(fresh).not.toContain("gs-11");
  });

  it("filters by label in the store and pages the result", async () => {
    const first = await t.raw("GET", `${gsPath()}?labelSelector=shard%3D1&limit=2`);
    expect(names(first.json.items)).toEqual(["gs-01", "gs-04"]);
    const second = await t.raw("GET", `${gsPath()}?labelSelector=shard%3D1&limit=2&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    expect(names(second.json.items)).toEqual(["gs-07", "gs-10"]);
    expect(second.json.metadata.continue).toBeUndefined();
  });

  it("answers a malformed continue token with 400 and an expired one with 410", async () => {
    const bad = await t.raw("GET", `${gsPath()}?limit=2&continue=not-a-token`);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/continue key is not valid/);
    expect((await t.raw("GET", `${gsPath()}?limit=x`)).status).toBe(400);
    const first = await t.raw("GET", `${gsPath()}?limit=2`);
    // Push the first page's version out of the 50 retained changes.
    for (let i = 0; i < 60; i++) await t.raw("PATCH", gsPath("default", "gs-00"), { body: { metadata: { labels: { n: String(i) } } }, headers: { "Content-Type": "application/merge-patch+json" } });
    const expired = await t.raw("GET", `${gsPath()}?limit=2&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    expect(expired.status).toBe(410);
    expect(expired.json).toMatchObject({ kind: "Status", reason: "Expired", code: 410 });
    expect(expired.json.message).toMatch(/continue parameter is too old/);
  });

  it("serves Tables with metadata, the whole object, or nothing per row, as includeObject says", async () => {
    const accept = { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" };
    const meta = await t.raw("GET", `${gsPath()}?limit=1`, { headers: accept });
    expect(meta.json.kind).toBe("Table");
    expect(meta.json.rows[0].object).toMatchObject({ kind: "PartialObjectMetadata" });
    expect(meta.json.rows[0].object.spec).toBeUndefined();
    expect(meta.json.metadata.continue).toBeDefined();
    const whole = await t.raw("GET", `${gsPath()}?limit=1&includeObject=Object`, { headers: accept });
    expect(whole.json.rows[0].object).toMatchObject({ kind: "GameServer", spec: { game: "generic" } });
    const none = await t.raw("GET", `${gsPath()}?limit=1&includeObject=None`, { headers: accept });
    expect(none.json.rows[0].object).toBeUndefined();
    expect((await t.raw("GET", `${gsPath()}?includeObject=All`, { headers: accept })).status).toBe(400);
    const one = await t.raw("GET", `${gsPath("default", "gs-01")}?includeObject=Object`, { headers: accept });
    expect(one.json.rows[0].object.metadata.labels).toEqual({ shard: "1" });
  });

  it("returns the stored objects byte for byte what a GET returns", async () => {
    const list = await t.raw("GET", gsPath());
    const item = list.json.items.find((o: { metadata: { name: string } }) => o.metadata.name === "gs-05");
    const got = await t.raw("GET", gsPath("default", "gs-05"));
    expect(JSON.stringify(item)).toBe(got.text);
  });
});
