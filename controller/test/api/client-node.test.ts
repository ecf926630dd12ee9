// The API as the controller sees it: through @kubernetes/client-node 1.4.0, unchanged.
import { statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiException, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gameServer, devEnvironment, GROUP, removeDir, startTestServer, VERSION, makeDataDir, type TestServer } from "./api-test-server.js";

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

// The status code and parsed Status of a failed call.
async function failure(p: Promise<unknown>): Promise<{ code: number; status: { reason?: string; message?: string; details?: { causes?: { field: string; message: string }[] } } | undefined }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const body = typeof e.body === "string" && e.body ? (JSON.parse(e.body) as never) : undefined;
    return { code: e.code, status: body };
  }
  throw new Error("expected the call to fail");
}

describe("custom resources through client-node", () => {
  let t: TestServer;
  let api: CustomObjectsApi;
  const gs = { group: GROUP, version: VERSION, namespace: "default", plural: "gameservers" };

  beforeAll(async () => {
    t = await startTestServer();
    api = t.kc.makeApiClient(CustomObjectsApi);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it("creates with server-set metadata, drops status, and reads it back", async () => {
    const body = { ...gameServer("crud"), status: { phase: "Running" } };
    const created = await api.createNamespacedCustomObject({ ...gs, body });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(created.status).toBeUndefined();
    const read = await api.getNamespacedCustomObject({ ...gs, name: "crud" });
    expect(read).toEqual(created);
    expect((await failure(api.createNamespacedCustomObject({ ...gs, body: gameServer("crud") }))).code).toBe(409);
    expect((await failure(api.getNamespacedCustomObject({ ...gs, name: "absent" }))).status?.reason).toBe("NotFound");
  });

  it("refuses an update carrying a stale resourceVersion with 409 Conflict", async () => {
    const created = await api.createNamespacedCustomObject({ ...gs, body: gameServer("stale") });
    const first = structuredClone(created);
    first.spec.ports[0].port = 25566;
    const updated = await api.replaceNamespacedCustomObject({ ...gs, name: "stale", body: first });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const second = structuredClone(created);
    second.spec.ports[0].port = 25567;
    const f = await failure(api.replaceNamespacedCustomObject({ ...gs, name: "stale", body: second }));
    expect(f.code).toBe(409);
    expect(f.status?.reason).toBe("Conflict");
    expect((await api.getNamespacedCustomObject({ ...gs, name: "stale" })).spec.ports[0].port).toBe(25566);
  });

  it("applies a merge patch sent with PatchStrategy.MergePatch and a JSON patch by default", async () => {
    await api.createNamespacedCustomObject({ ...gs, body: gameServer("patchy", { labels: { keep: "yes", drop: "me" } }) });
    const merged = await api.patchNamespacedCustomObject({ ...gs, name: "patchy", body: { metadata: { labels: { drop: null, add: "new" } } } }, merge);
    expect(merged.metadata.labels).toEqual({ keep: "yes", add: "new" });
    const patched = await api.patchNamespacedCustomObject({ ...gs, name: "patchy", body: [{ op: "replace", path: "/spec/game", value: "minecraft" }] });
    expect(patched.spec.game).toBe("minecraft");
    const failed = await failure(api.patchNamespacedCustomObject({ ...gs, name: "patchy", body: [{ op: "test", path: "/spec/game", value: "generic" }] }));
    expect(failed.code).toBe(422);
  });

  it("keeps spec and status apart: status writes ignore spec, main writes keep status", async () => {
    await api.createNamespacedCustomObject({ ...gs, body: gameServer("split") });
    const withStatus = await api.patchNamespacedCustomObjectStatus(
      { ...gs, name: "split", body: { spec: { game: "minecraft" }, status: { phase: "Running", vmid: 101 } } },
      merge,
    );
    expect(withStatus.status).toEqual({ phase: "Running", vmid: 101 });
    expect(withStatus.spec.game).toBe("generic");
    expect(withStatus.metadata.generation).toBe(1);

    const main = structuredClone(withStatus);
    main.status = { phase: "Error" };
    main.spec.game = "minecraft";
    const replaced = await api.replaceNamespacedCustomObject({ ...gs, name: "split", body: main });
    expect(replaced.status).toEqual({ phase: "Running", vmid: 101 });
    expect(replaced.spec.game).toBe("minecraft");
    expect(replaced.metadata.generation).toBe(2);

    const viaPut = structuredClone(replaced);
    viaPut.status = { phase: "Starting", vmid: 101 };
    const statusPut = await api.replaceNamespacedCustomObjectStatus({ ...gs, name: "split", body: viaPut });
    expect(statusPut.status.phase).toBe("Starting");
    expect(statusPut.metadata.generation).toBe(2);
    expect((await api.getNamespacedCustomObjectStatus({ ...gs, name: "split" })).status.phase).toBe("Starting");
  });

  it("raises generation only for spec changes and keeps resourceVersion on a no-op write", async () => {
    const created = await api.createNamespacedCustomObject({ ...gs, body: gameServer("gen") });
    const labelled = await api.patchNamespacedCustomObject({ ...gs, name: "gen", body: { metadata: { labels: { a: "b" } } } }, merge);
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    const same = await api.patchNamespacedCustomObject({ ...gs, name: "gen", body: { metadata: { labels: { a: "b" } } } }, merge);
    expect(same.metadata.resourceVersion).toBe(labelled.metadata.resourceVersion);
    const sameStatus = await api.patchNamespacedCustomObjectStatus({ ...gs, name: "gen", body: { status: {} } }, merge);
    expect(sameStatus.metadata.resourceVersion).not.toBe(labelled.metadata.resourceVersion);
    const again = await api.patchNamespacedCustomObjectStatus({ ...gs, name: "gen", body: { status: {} } }, merge);
    expect(again.metadata.resourceVersion).toBe(sameStatus.metadata.resourceVersion);
    const specChange = await api.patchNamespacedCustomObject({ ...gs, name: "gen", body: { spec: { hostname: "gen-host" } } }, merge);
    expect(specChange.metadata.generation).toBe(2);
  });

  it("deletes an object with finalizers only when the last finalizer is removed", async () => {
    await api.createNamespacedCustomObject({ ...gs, body: { ...gameServer("fin"), metadata: { name: "fin", finalizers: ["zerolaghub.dev/cleanup"] } } });
    const marked = await api.deleteNamespacedCustomObject({ ...gs, name: "fin" });
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    const again = await api.deleteNamespacedCustomObject({ ...gs, name: "fin" });
    expect(again.metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
    expect(again.metadata.resourceVersion).toBe(marked.metadata.resourceVersion);

    const adding = await failure(
      api.patchNamespacedCustomObject({ ...gs, name: "fin", body: { metadata: { finalizers: ["zerolaghub.dev/cleanup", "other/x"] } } }, merge),
    );
    expect(adding.code).toBe(422);

    const still = await api.getNamespacedCustomObject({ ...gs, name: "fin" });
    expect(still.metadata.finalizers).toEqual(["zerolaghub.dev/cleanup"]);
    await api.patchNamespacedCustomObject({ ...gs, name: "fin", body: { metadata: { finalizers: null } } }, merge);
    expect((await failure(api.getNamespacedCustomObject({ ...gs, name: "fin" }))).code).toBe(404);

    await api.createNamespacedCustomObject({ ...gs, body: gameServer("nofin") });
    const gone = await api.deleteNamespacedCustomObject({ ...gs, name: "nofin" });
    expect(gone.metadata.name).toBe("nofin");
    expect((await failure(api.getNamespacedCustomObject({ ...gs, name: "nofin" }))).code).toBe(404);
  });

  it("filters lists by label selector, namespaced and cluster-wide", async () => {
    await api.createNamespacedCustomObject({ ...gs, body: gameServer("sel-a", { labels: { tier: "gold", team: "x" } }) });
    await api.createNamespacedCustomObject({ ...gs, body: gameServer("sel-b", { labels: { tier: "silver" } }) });
    await api.createNamespacedCustomObject({ ...gs, namespace: "team-y", body: gameServer("sel-c", { labels: { tier: "gold" }, namespace: "team-y" }) });
    const names = (l: { items: { metadata: { name: string } }[] }): string[] => l.items.map((o) => o.metadata.name).sort();
    expect(names(await api.listNamespacedCustomObject({ ...gs, labelSelector: "tier=gold" }))).toEqual(["sel-a"]);
    expect(names(await api.listNamespacedCustomObject({ ...gs, labelSelector: "tier in (gold,silver),!team" }))).toEqual(["sel-b"]);
    const all = await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: "gameservers", labelSelector: "tier=gold" });
    expect(names(all)).toEqual(["sel-a", "sel-c"]);
    expect(all.kind).toBe("GameServerList");
    expect(Number(all.metadata.resourceVersion)).toBeGreaterThan(0);
    expect((await failure(api.listNamespacedCustomObject({ ...gs, labelSelector: "tier in (gold" }))).code).toBe(400);
  });

  it("answers an invalid object with 422 naming the field, and stores nothing", async () => {
    const bad = gameServer("dup");
    (bad.spec as { ports: unknown[] }).ports = [
      { name: "game", port: 25565 },
      { name: "other", port: 25565 },
    ];
    const f = await failure(api.createNamespacedCustomObject({ ...gs, body: bad }));
    expect(f.code).toBe(422);
    expect(f.status?.reason).toBe("Invalid");
    expect(f.status?.message).toMatch(/^GameServer "dup" is invalid: \.spec\.ports\[1\]\.port: duplicate port/);
    expect(f.status?.details?.causes).toContainEqual(expect.objectContaining({ field: ".spec.ports[1].port" }));
    expect((await failure(api.getNamespacedCustomObject({ ...gs, name: "dup" }))).code).toBe(404);

    await api.createNamespacedCustomObject({ ...gs, body: gameServer("st") });
    const badStatus = await failure(api.patchNamespacedCustomObjectStatus({ ...gs, name: "st", body: { status: { phase: "Dancing" } } }, merge));
    expect(badStatus.code).toBe(422);
    expect(badStatus.status?.details?.causes?.[0]?.field).toBe(".status.phase");
  });

  it("refuses changes to name, namespace, uid and creationTimestamp with 422", async () => {
    const created = await api.createNamespacedCustomObject({ ...gs, body: gameServer("immut") });
    for (const change of [{ uid: "other" }, { creationTimestamp: "2000-01-01T00:00:00Z" }, { name: "renamed" }, { namespace: "elsewhere" }]) {
      const f = await failure(api.patchNamespacedCustomObject({ ...gs, name: "immut", body: { metadata: change } }, merge));
      expect(f.code).toBe(422);
    }
    expect((await api.getNamespacedCustomObject({ ...gs, name: "immut" })).metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it("answers dry runs without storing anything", async () => {
    const dry = await api.createNamespacedCustomObject({ ...gs, body: gameServer("dry"), dryRun: "All" });
    expect(dry.metadata.uid).toBeDefined();
    expect((await failure(api.getNamespacedCustomObject({ ...gs, name: "dry" }))).code).toBe(404);
    expect((await failure(api.createNamespacedCustomObject({ ...gs, body: { ...gameServer("dry"), spec: {} }, dryRun: "All" }))).code).toBe(422);
    const real = await api.createNamespacedCustomObject({ ...gs, body: gameServer("dry") });
    await api.deleteNamespacedCustomObject({ ...gs, name: "dry", dryRun: "All" });
    expect((await api.getNamespacedCustomObject({ ...gs, name: "dry" })).metadata.resourceVersion).toBe(real.metadata.resourceVersion);
  });

  it("serves DevEnvironments under their own plural", async () => {
    const dev = await api.createNamespacedCustomObject({ ...gs, plural: "devenvironments", body: devEnvironment("dev1") });
    expect(dev.kind).toBe("DevEnvironment");
    expect(dev.metadata.namespace).toBe("default");
    const list = await api.listNamespacedCustomObject({ ...gs, plural: "devenvironments" });
    expect(list.kind).toBe("DevEnvironmentList");
    expect(list.items).toHaveLength(1);
  });

  it("answers 401 without the admin token", async () => {
    const anonymous = new KubeConfig();
    anonymous.loadFromOptions({
      clusters: [{ name: "c", server: t.api.url, skipTLSVerify: true }],
      users: [{ name: "u", token: "0".repeat(64) }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const f = await failure(anonymous.makeApiClient(CustomObjectsApi).listNamespacedCustomObject(gs));
    expect(f.code).toBe(401);
    const raw = await t.raw("GET", "/apis/zerolaghub.dev/v1alpha1/gameservers", { token: null });
    expect(raw.status).toBe(401);
    expect(raw.json).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    expect((await t.raw("GET", "/healthz", { token: null })).text).toBe("ok");
  });

  it("works over plain HTTP through the zlh-http context as well as HTTPS", async () => {
    expect(t.kc.getCurrentCluster()?.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const http = new KubeConfig();
    http.loadFromFile(t.api.kubeconfigPath);
    http.setCurrentContext("zlh-http");
    expect(http.getCurrentCluster()?.server).toBe(t.api.url);
    const list = await http.makeApiClient(CustomObjectsApi).listNamespacedCustomObject(gs);
    expect(list.items.length).toBeGreaterThan(0);
  });
});

describe("data dir", () => {
  it("writes the token and kubeconfig 0600 and keeps data and token across a restart", async () => {
    const dir = makeDataDir();
    try {
      const first = await startTestServer({}, dir);
      expect(statSync(join(dir, "admin.token")).mode & 0o777).toBe(0o600);
      expect(statSync(first.api.kubeconfigPath).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "tls.key")).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, "admin.token"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.parse(readFileSync(join(dir, "server.json"), "utf8"))).toEqual({ url: first.api.url, pid: process.pid });
      const api = first.kc.makeApiClient(CustomObjectsApi);
      const created = await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: "default", plural: "gameservers", body: gameServer("keep") });
      await first.stop();

      const second = await startTestServer({}, dir);
      try {
        expect(second.api.token).toBe(first.api.token);
        const again = second.kc.makeApiClient(CustomObjectsApi);
        const read = await again.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: "default", plural: "gameservers", name: "keep" });
        expect(read).toEqual(created);
        const next = await again.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: "default", plural: "gameservers", body: gameServer("later") });
        expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
      } finally {
        await second.stop();
      }
    } finally {
      removeDir(dir);
    }
  });
});
