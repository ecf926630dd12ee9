// Events, Leases, namespaces, discovery, health and metrics.
import { ApiException, CoordinationV1Api, CoreV1Api, CustomObjectsApi, type CoreV1Event, type V1Lease } from "@kubernetes/client-node";
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSelfSignedCertificate } from "../../src/api/self-signed-cert.js";
import { gameServer, GROUP, startTestServer, VERSION, type TestServer } from "./api-test-server.js";

function event(name: string, involved: { name: string; uid: string; kind?: string }, reason = "Provisioned"): CoreV1Event {
  return {
    metadata: { name, namespace: "default" },
    involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: involved.kind ?? "GameServer", name: involved.name, namespace: "default", uid: involved.uid },
    reason,
    message: `${reason} ${involved.name}`,
    type: "Normal",
    count: 1,
    source: { component: "zlh-controller" },
  };
}

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
  return 200;
}

describe("core APIs", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it("stores events and lists them by involvedObject fields, as kubectl describe asks", async () => {
    const core = t.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedEvent({ namespace: "default", body: event("mc1.1", { name: "mc1", uid: "u-1" }) });
    await core.createNamespacedEvent({ namespace: "default", body: event("mc1.2", { name: "mc1", uid: "u-1" }, "Started") });
    await core.createNamespacedEvent({ namespace: "default", body: event("mc2.1", { name: "mc2", uid: "u-2" }) });
    await core.createNamespacedEvent({ namespace: "default", body: event("dev1.1", { name: "mc1", uid: "u-3", kind: "DevEnvironment" }) });
    const names = (l: { items: CoreV1Event[] }): string[] => l.items.map((e) => e.metadata.name!).sort();
    const selected = await core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: "involvedObject.name=mc1,involvedObject.namespace=default,involvedObject.kind=GameServer,involvedObject.uid=u-1",
    });
    expect(names(selected)).toEqual(["mc1.1", "mc1.2"]);
    expect(names(await core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name!=mc1" }))).toEqual(["mc2.1"]);
    expect(names(await core.listEventForAllNamespaces({ fieldSelector: "reason=Started" }))).toEqual(["mc1.2"]);
    await core.deleteNamespacedEvent({ namespace: "default", name: "mc2.1" });
    expect(names(await core.listNamespacedEvent({ namespace: "default" }))).toEqual(["dev1.1", "mc1.1", "mc1.2"]);
  });

  it("checks the basic shape of events", async () => {
    const bad = await t.raw("POST", "/api/v1/namespaces/default/events", { body: { metadata: { name: "x.1" }, reason: "R", message: "m" } });
    expect(bad.status).toBe(422);
    expect(bad.json.details.causes).toContainEqual(expect.objectContaining({ field: ".involvedObject" }));
    const badType = await t.raw("POST", "/api/v1/namespaces/default/events", { body: { metadata: { name: "x.2" }, involvedObject: {}, reason: 5, message: "m" } });
    expect(badType.status).toBe(422);
    expect(badType.json.details.causes).toContainEqual(expect.objectContaining({ field: ".reason" }));
  });

  it("keeps at most the newest 1000 events per namespace, pruning the oldest tenth at a time", async () => {
    const core = t.kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 1003; i++) {
      const r = await t.raw("POST", "/api/v1/namespaces/busy/events", {
        body: { ...event(`e${i}`, { name: "mc1", uid: "u" }), metadata: { name: `e${String(i).padStart(4, "0")}` } },
      });
      expect(r.status).toBe(201);
    }
    const names = (await core.listNamespacedEvent({ namespace: "busy" })).items.map((e) => e.metadata.name);
    // The 1001st event crossed the cap: the oldest went until 900 were left.
    expect(names).toHaveLength(902);
    expect(names).not.toContain("e0100");
    expect(names).toContain("e0101");
    expect(names).toContain("e1002");
  });

  it("runs the Lease create/read/replace cycle of leader election with 409 for the loser", async () => {
    const coord = t.kc.makeApiClient(CoordinationV1Api);
    const lease: V1Lease = { metadata: { name: "zlh-controller", namespace: "default" }, spec: { holderIdentity: "a", leaseDurationSeconds: 15 } };
    const created = await coord.createNamespacedLease({ namespace: "default", body: lease });
    expect(created.spec?.holderIdentity).toBe("a");
    expect(await code(coord.createNamespacedLease({ namespace: "default", body: lease }))).toBe(409);
    const read = await coord.readNamespacedLease({ namespace: "default", name: "zlh-controller" });
    const renewTime = new Date("2026-11-27T06:00:00.123456Z");
    const renewed = await coord.replaceNamespacedLease({ namespace: "default", name: "zlh-controller", body: { ...read, spec: { ...read.spec, renewTime } } });
    expect(renewed.spec?.renewTime).toBeDefined();
    // A second candidate still holding the old version loses.
    const stale = { ...read, spec: { ...read.spec, holderIdentity: "b" } };
    expect(await code(coord.replaceNamespacedLease({ namespace: "default", name: "zlh-controller", body: stale }))).toBe(409);
    expect((await coord.readNamespacedLease({ namespace: "default", name: "zlh-controller" })).spec?.holderIdentity).toBe("a");
    const badShape = await t.raw("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", { body: { metadata: { name: "l2" }, spec: { leaseDurationSeconds: "long" } } });
    expect(badShape.status).toBe(422);
    await coord.deleteNamespacedLease({ namespace: "default", name: "zlh-controller" });
    expect(await code(coord.readNamespacedLease({ namespace: "default", name: "zlh-controller" }))).toBe(404);
  });

  it("lists the namespaces in use plus default", async () => {
    await t.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: "team-z",
      plural: "gameservers",
      body: gameServer("ns1", { namespace: "team-z" }),
    });
    const list = await t.kc.makeApiClient(CoreV1Api).listNamespace();
    const names = list.items.map((n) => n.metadata?.name);
    expect(names).toContain("default");
    expect(names).toContain("team-z");
  });

  it("serves discovery for both groups and the core events", async () => {
    const apis = await t.raw("GET", "/apis");
    expect(apis.json.kind).toBe("APIGroupList");
    expect(apis.json.groups.map((g: { name: string }) => g.name).sort()).toEqual(["coordination.k8s.io", "zerolaghub.dev"]);
    const zlh = await t.raw("GET", "/apis/zerolaghub.dev/v1alpha1");
    const gs = zlh.json.resources.find((r: { name: string }) => r.name === "gameservers");
    expect(gs).toMatchObject({ kind: "GameServer", namespaced: true, shortNames: ["gs"], categories: ["all", "zlh"] });
    expect(gs.verbs).toEqual(expect.arrayContaining(["get", "list", "watch", "create", "update", "patch", "delete"]));
    expect(zlh.json.resources.map((r: { name: string }) => r.name)).toEqual(["gameservers", "gameservers/status", "devenvironments", "devenvironments/status", "syncs", "syncs/status"]);
    expect((await t.raw("GET", "/api/v1")).json.resources.map((r: { name: string }) => r.name)).toEqual(["events", "namespaces"]);
    expect((await t.raw("GET", "/version")).json.gitVersion).toBe("v1.32.0-zlh");
    const aggregated = await t.raw("GET", "/apis", { headers: { Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json" } });
    expect(aggregated.headers["content-type"]).toBe("application/json");
    expect(aggregated.json.kind).toBe("APIGroupList");
  });

  it("exposes health without a token and metrics with one", async () => {
    for (const p of ["/healthz", "/readyz", "/livez"]) expect((await t.raw("GET", p, { token: null })).text).toBe("ok");
    expect((await t.raw("GET", "/metrics", { token: null })).status).toBe(401);
    const text = (await t.raw("GET", "/metrics")).text;
    expect(text).toMatch(/zlh_apiserver_requests_total\{verb="create",resource="gameservers",code="201"\} \d+/);
    expect(text).toMatch(/zlh_apiserver_stored_objects\{resource="events"\} \d+/);
    expect(text).toMatch(/^zlh_apiserver_watches 0$/m);
  });
});

describe("event limits", () => {
  it("caps events in total, not only per namespace", async () => {
    const t = await startTestServer({ eventLimits: { perNamespace: 50, total: 100 } });
    try {
      for (let ns = 0; ns < 8; ns++) {
        for (let i = 0; i < 20; i++) {
          const r = await t.raw("POST", `/api/v1/namespaces/ns${ns}/events`, { body: { ...event("x", { name: "mc1", uid: "u" }), metadata: { name: `e${i}` } } });
          expect(r.status).toBe(201);
        }
      }
      const all = (await t.raw("GET", "/api/v1/events")).json.items as CoreV1Event[];
      expect(all.length).toBeLessThanOrEqual(100);
      // The oldest went first: whole early namespaces are gone, the last one is complete.
      const byNs = (ns: string): number => all.filter((e) => e.metadata.namespace === ns).length;
      expect(byNs("ns0")).toBe(0);
      expect(byNs("ns7")).toBe(20);
    } finally {
      await t.dispose();
    }
  });
});

describe("serving certificate", () => {
  it("is a valid self-signed loopback certificate every time (DER integers stay minimal)", () => {
    for (let i = 0; i < 50; i++) {
      const { certPem } = createSelfSignedCertificate({
        commonName: "zlh-apiserver",
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1", "::1"],
        notBefore: new Date("2026-01-01T00:00:00Z"),
        notAfter: new Date("2060-01-01T00:00:00Z"),
      });
      const x = new X509Certificate(certPem);
      expect(x.verify(x.publicKey)).toBe(true);
      expect(x.checkIP("127.0.0.1")).toBe("127.0.0.1");
      expect(x.checkHost("localhost")).toBe("localhost");
      expect(x.validTo).toBe("Jan  1 00:00:00 2060 GMT");
    }
  });
});
