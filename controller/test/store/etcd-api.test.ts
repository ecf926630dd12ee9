// The API server on etcd: two API servers on one 3-member etcd cluster serve the same
// objects; one member down, writes go on; two down (no quorum), writes answer 503 with a
// Status body and nothing is lost; a member back, writes resume. And the flags and the
// start-up errors of `--store etcd`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeFromFlags } from "../../src/cli/server.js";
import { openEtcdStore } from "../../src/store/open-store.js";
import { gameServer, gsPath, startTestServer, waitFor, type TestServer } from "../api/api-test-server.js";
import { startEtcdCluster, type EtcdCluster } from "./etcd-server.js";

describe("zlh server --store etcd flags", () => {
  it("chooses SQLite by default and etcd with endpoints; refuses flags that do not fit, naming them", () => {
    expect(storeFromFlags(undefined)).toEqual({ kind: "sqlite" });
    expect(storeFromFlags("etcd", { endpoints: "127.0.0.1:2379,127.0.0.2:2379", prefix: "/p/" })).toMatchObject({ kind: "etcd", endpoints: ["127.0.0.1:2379", "127.0.0.2:2379"], prefix: "/p/" });
    expect(() => storeFromFlags("etcd", {})).toThrow("--store etcd needs --etcd-endpoints");
    expect(() => storeFromFlags("sqlite", { ca: "/x" })).toThrow("--etcd-ca needs --store etcd");
  });

  it("refuses an unreachable etcd, bad endpoints and half a client certificate in one line", async () => {
    const refused = openEtcdStore({ kind: "etcd", endpoints: ["127.0.0.1:1"], callTimeoutMs: 1500 });
    await expect(refused).rejects.toThrow(/^etcd at 127\.0\.0\.1:1 is unreachable: [^\n]+$/);
    await expect(openEtcdStore({ kind: "etcd", endpoints: ["no-port"] })).rejects.toThrow('--etcd-endpoints: "no-port" is not host:port');
    await expect(openEtcdStore({ kind: "etcd", endpoints: ["127.0.0.1:1"], certFile: "/c" })).rejects.toThrow("--etcd-cert and --etcd-key go together");
    await expect(openEtcdStore({ kind: "etcd", endpoints: ["127.0.0.1:1"], caFile: "/nonexistent/ca.pem" })).rejects.toThrow("--etcd-ca /nonexistent/ca.pem: no such file");
  });
});

describe("two API servers on a 3-member etcd cluster", () => {
  let etcd: EtcdCluster;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    etcd = await startEtcdCluster(3);
    const store = { kind: "etcd" as const, endpoints: etcd.endpoints, prefix: "/zlh-api/", callTimeoutMs: 2000 };
    a = await startTestServer({ store });
    b = await startTestServer({ store });
  }, 90_000);
  afterAll(async () => {
    await a?.dispose();
    await b?.dispose();
    await etcd?.stop();
  });

  const create = (s: TestServer, name: string) => s.raw("POST", gsPath(), { body: gameServer(name) });
  const names = async (s: TestServer): Promise<string[]> => ((await s.raw("GET", gsPath())).json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);

  it("serves the same objects from both servers, and a watch on one sees the other's writes", async () => {
    const list = await b.raw("GET", gsPath());
    const made = await create(a, "gs-a");
    expect(made.status).toBe(201);
    expect(await names(b)).toEqual(["gs-a"]);
    const watched = await b.raw("GET", `${gsPath()}?watch=1&resourceVersion=${list.json.metadata.resourceVersion}&timeoutSeconds=1`);
    expect(watched.text).toContain('"name":"gs-a"');
    // A stale write through the other server is a conflict, not a lost update.
    const stale = { ...gameServer("gs-a"), metadata: { name: "gs-a", namespace: "default", resourceVersion: made.json.metadata.resourceVersion, labels: { x: "1" } } };
    expect((await b.raw("PUT", gsPath("default", "gs-a"), { body: stale })).status).toBe(200);
    expect((await a.raw("PUT", gsPath("default", "gs-a"), { body: stale })).status).toBe(409);
  });

  it("keeps writing with one member down; answers 503 with a Status without quorum; loses nothing", async () => {
    await etcd.members[0]!.kill();
    expect((await create(a, "gs-one-down")).status).toBe(201);
    expect((await create(b, "gs-one-down-b")).status).toBe(201);
    await etcd.members[1]!.kill();
    const refused = await waitFor("a 503 without quorum", async () => {
      const r = await create(a, "gs-no-quorum");
      return r.status === 201 ? undefined : r;
    }, 30_000);
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ kind: "Status", status: "Failure", code: 503, reason: "ServiceUnavailable" });
    expect(refused.json.message).toMatch(/^etcd is unavailable: /);
    await etcd.members[1]!.restart();
    const back = await waitFor("writes to resume", async () => {
      const r = await create(b, "gs-back");
      return r.status === 201 ? r : undefined;
    }, 30_000);
    expect(back.status).toBe(201);
    const after = await names(a);
    for (const n of ["gs-a", "gs-one-down", "gs-one-down-b", "gs-back"]) expect(after).toContain(n);
  }, 90_000);
});
