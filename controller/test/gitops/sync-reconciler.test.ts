// A Sync's run against the real embedded API server: apply, prune only its own objects,
// drift correction with an event, a bad revision refused whole with file:line:col errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Sync } from "../../../schemas/generated/types.js";
import { FakeClock } from "../../src/engine/clock.js";
import { apiObjects } from "../../src/gitops/apply.js";
import { SYNC_NAME_LABEL } from "../../src/gitops/inventory.js";
import { fetchPathSource } from "../../src/gitops/path-source.js";
import { apiSyncs } from "../../src/gitops/sync-controller.js";
import { makeSyncReconciler } from "../../src/gitops/sync-reconciler.js";
import { silentLogger, startTestServer, type TestServer } from "../api/api-test-server.js";
import { base, folder, gsYaml, memoryEvents, syncObject } from "./sync-helpers.js";

let srv: TestServer;
let files: ReturnType<typeof folder>;
let ns = "";
let n = 0;
let events: ReturnType<typeof memoryEvents>;
let run: (namespace: string, name: string) => Promise<unknown>;

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.dispose();
});
beforeEach(async () => {
  ns = `g${++n}`;
  files = folder();
  events = memoryEvents();
  run = makeSyncReconciler({ objects: apiObjects(srv.kc), syncs: apiSyncs(srv.kc), fetch: fetchPathSource, events, clock: new FakeClock(), logger: silentLogger });
  return () => files.cleanup();
});

async function createSync(name: string, spec: Partial<Sync["spec"]> = {}): Promise<void> {
  const r = await srv.raw("POST", `${base}/namespaces/${ns}/syncs`, { body: syncObject(name, { source: { path: files.dir }, ...spec }, ns) });
  expect(r.status).toBe(201);
}
const getSync = async (name: string): Promise<Sync> => (await srv.raw("GET", `${base}/namespaces/${ns}/syncs/${name}`)).json as Sync;
const getGs = (name: string, namespace = ns) => srv.raw("GET", `${base}/namespaces/${namespace}/gameservers/${name}`);
const ready = (s: Sync) => s.status?.conditions?.find((c) => c.type === "Ready");

describe("Sync from a folder", () => {
  it("applies every file with the inventory label and records revision, counts and inventory", async () => {
    files.write("a.yaml", gsYaml("alpha"));
    files.write("nested/b.yml", gsYaml("beta", 25570));
    await createSync("site");
    await run(ns, "site");
    const s = await getSync("site");
    expect(s.status?.lastAppliedRevision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(s.status?.lastAttemptedRevision).toBe(s.status?.lastAppliedRevision);
    expect(s.status?.counts).toEqual({ applied: 2, unchanged: 0, pruned: 0, failed: 0 });
    expect(s.status?.inventory?.map((e) => `${e.kind}/${e.name}@${e.file}`)).toEqual(["GameServer/alpha@a.yaml", "GameServer/beta@nested/b.yml"]);
    // Applied but nothing is Ready yet (no controller runs here): Flux's "Progressing".
    expect(ready(s)).toMatchObject({ status: "Unknown", reason: "Progressing" });
    const beta = (await getGs("beta")).json;
    expect(beta.metadata.labels[SYNC_NAME_LABEL]).toBe("site");
    expect(beta.spec.ports[0].port).toBe(25570);

    await run(ns, "site");
    expect((await getSync("site")).status?.counts).toEqual({ applied: 0, unchanged: 2, pruned: 0, failed: 0 });
    expect(events.events.filter((e) => e.reason === "DriftCorrected")).toEqual([]);
  });

  it("prunes what left the files, but never an object applied by hand or by another Sync", async () => {
    files.write("a.yaml", gsYaml("alpha"));
    files.write("b.yaml", gsYaml("beta"));
    await createSync("site");
    await run(ns, "site");
    // Applied by hand, same namespace: not ours.
    const byHand = await srv.raw("POST", `${base}/namespaces/${ns}/gameservers`, { body: { apiVersion: "zerolaghub.dev/v1alpha1", kind: "GameServer", metadata: { name: "manual" }, spec: { game: "generic", command: ["x"], ports: [{ name: "g", port: 1 }] } } });
    expect(byHand.status).toBe(201);
    files.remove("b.yaml");
    await run(ns, "site");
    const s = await getSync("site");
    expect(s.status?.counts?.pruned).toBe(1);
    expect(s.status?.inventory?.map((e) => e.name)).toEqual(["alpha"]);
    expect((await getGs("beta")).status).toBe(404);
    expect((await getGs("manual")).status).toBe(200);
    expect((await getGs("alpha")).status).toBe(200);
    expect(events.events.find((e) => e.reason === "Pruned")?.message).toMatch(/gameserver\.zerolaghub\.dev\/beta/);
  });

  it("refuses to take over an object another Sync applied", async () => {
    files.write("a.yaml", gsYaml("shared"));
    await createSync("first");
    await createSync("second");
    await run(ns, "first");
    await run(ns, "second");
    const second = await getSync("second");
    expect(ready(second)).toMatchObject({ status: "False", reason: "ApplyFailed" });
    expect(second.status?.errors?.[0]?.message).toMatch(/belongs to Sync g\d+\/first/);
    expect((await getGs("shared")).json.metadata.labels[SYNC_NAME_LABEL]).toBe("first");
  });

  it("puts back a resource edited or deleted by hand, with an event; status is never drift", async () => {
    files.write("a.yaml", gsYaml("alpha", 25565, "    tier: gold\n"));
    files.write("b.yaml", gsYaml("beta"));
    await createSync("site");
    await run(ns, "site");
    const live = (await getGs("alpha")).json;
    live.spec.ports[0].port = 9999;
    live.metadata.labels.extra = "by-hand";
    expect((await srv.raw("PUT", `${base}/namespaces/${ns}/gameservers/alpha`, { body: live })).status).toBe(200);
    const withStatus = (await getGs("alpha")).json;
    expect((await srv.raw("PUT", `${base}/namespaces/${ns}/gameservers/alpha/status`, { body: { ...withStatus, status: { phase: "Running" } } })).status).toBe(200);
    expect((await srv.raw("DELETE", `${base}/namespaces/${ns}/gameservers/beta`)).status).toBe(200);

    await run(ns, "site");
    const fixed = (await getGs("alpha")).json;
    expect(fixed.spec.ports[0].port).toBe(25565);
    expect(fixed.metadata.labels).toEqual({ tier: "gold", "sync.zerolaghub.dev/name": "site", "sync.zerolaghub.dev/namespace": ns });
    expect(fixed.status.phase).toBe("Running");
    expect((await getGs("beta")).status).toBe(200);
    const drift = events.events.find((e) => e.reason === "DriftCorrected");
    expect(drift?.message).toMatch(/gameserver\.zerolaghub\.dev\/alpha/);
    expect(drift?.message).toMatch(/beta \(namespace g\d+\) \(recreated\)/);

    // Only status changes: nothing to correct.
    const again = (await getGs("alpha")).json;
    await srv.raw("PUT", `${base}/namespaces/${ns}/gameservers/alpha/status`, { body: { ...again, status: { phase: "Error" } } });
    await run(ns, "site");
    expect((await getSync("site")).status?.counts).toEqual({ applied: 0, unchanged: 2, pruned: 0, failed: 0 });
  });

  it("applies nothing from a revision with one invalid file, keeps the last good one and says where", async () => {
    files.write("a.yaml", gsYaml("alpha"));
    await createSync("site");
    await run(ns, "site");
    const good = (await getSync("site")).status!.lastAppliedRevision;

    files.write("a.yaml", gsYaml("alpha", 26000));
    files.write("b.yaml", gsYaml("beta"));
    files.write("c.yaml", gsYaml("gamma").replace("game: generic", "game: chess"));
    await run(ns, "site");
    const s = await getSync("site");
    expect(s.status?.lastAppliedRevision).toBe(good);
    expect(s.status?.lastAttemptedRevision).not.toBe(good);
    expect(s.status?.errors).toEqual([expect.objectContaining({ file: "c.yaml", line: 6, col: 3, message: expect.stringMatching(/\.spec\.game: must be one of/) })]);
    expect(ready(s)).toMatchObject({ status: "False", reason: "ValidationFailed" });
    expect(s.status?.conditions?.find((c) => c.type === "Stalled")?.status).toBe("True");
    expect(ready(s)?.message).toMatch(/c\.yaml:6:3: \.spec\.game/);
    expect((await getGs("alpha")).json.spec.ports[0].port).toBe(25565);
    expect((await getGs("beta")).status).toBe(404);
    expect(s.status?.inventory?.map((e) => e.name)).toEqual(["alpha"]);

    files.write("c.yaml", "kind: GameServer\nkind: DevEnvironment\n");
    await run(ns, "site");
    const syntax = await getSync("site");
    expect(syntax.status?.errors?.[0]).toMatchObject({ file: "c.yaml", line: 2, col: 1, message: expect.stringMatching(/unique/) });

    files.remove("c.yaml");
    await run(ns, "site");
    const fixed = await getSync("site");
    expect(fixed.status?.lastAppliedRevision).toBe(fixed.status?.lastAttemptedRevision);
    expect(fixed.status?.conditions?.find((c) => c.type === "Stalled")?.status).toBe("False");
    expect((await getGs("alpha")).json.spec.ports[0].port).toBe(26000);
    expect((await getGs("beta")).status).toBe(200);
  });

  it("puts everything in targetNamespace, leaves objects alone when prune is false, and reports a missing folder", async () => {
    files.write("a.yaml", gsYaml("alpha"));
    files.write("b.yaml", gsYaml("beta"));
    await createSync("site", { targetNamespace: `${ns}-target`, prune: false });
    await run(ns, "site");
    expect((await getGs("alpha", `${ns}-target`)).status).toBe(200);
    files.remove("b.yaml");
    await run(ns, "site");
    expect((await getGs("beta", `${ns}-target`)).status).toBe(200);
    expect((await getSync("site")).status?.inventory?.map((e) => e.name)).toEqual(["alpha"]);

    await srv.raw("POST", `${base}/namespaces/${ns}/syncs`, { body: syncObject("gone", { source: { path: `${files.dir}/missing` } }, ns) });
    await run(ns, "gone");
    const gone = await getSync("gone");
    expect(ready(gone)).toMatchObject({ status: "False", reason: "SourceFailed" });
    expect(ready(gone)?.message).toMatch(/missing does not exist/);
  });

  it("does nothing while suspended", async () => {
    files.write("a.yaml", gsYaml("alpha"));
    await createSync("site", { suspend: true });
    await run(ns, "site");
    expect((await getGs("alpha")).status).toBe(404);
    expect((await getSync("site")).status).toBeUndefined();
  });
});
