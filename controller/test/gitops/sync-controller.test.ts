// The Sync controller end to end against the embedded API server: a folder Sync applies on
// creation, again shortly after a file changes (chokidar, debounced; the interval is an
// hour so only the watcher can cause it), and at once when a reconcile is requested.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sync } from "../../../schemas/generated/types.js";
import { REQUESTED_AT_ANNOTATION } from "../../src/gitops/inventory.js";
import { startSyncController, type RunningSyncController } from "../../src/gitops/sync-controller.js";
import { silentLogger, startTestServer, waitFor, type TestServer } from "../api/api-test-server.js";
import { base, folder, gsYaml, memoryEvents, syncObject } from "./sync-helpers.js";

let srv: TestServer;
let ctl: RunningSyncController;
let files: ReturnType<typeof folder>;
let cacheDir: string;
let leader = true;
let standbyRefusals = 0;

beforeAll(async () => {
  srv = await startTestServer();
  files = folder();
  cacheDir = mkdtempSync(join(tmpdir(), "zlh-gitops-cache-"));
  ctl = await startSyncController({ kubeConfig: srv.kc, logger: silentLogger, events: memoryEvents(), cacheDir, debounceMs: 100, isLeader: () => (leader ? true : (standbyRefusals++, false)) });
  await ctl.ready;
});
afterAll(async () => {
  await ctl?.close();
  await srv?.dispose();
  files?.cleanup();
  rmSync(cacheDir, { recursive: true, force: true });
});

const getSync = async (name: string): Promise<Sync> => (await srv.raw("GET", `${base}/namespaces/default/syncs/${name}`)).json as Sync;
const gsPort = async (name: string): Promise<number | undefined> => {
  const r = await srv.raw("GET", `${base}/namespaces/default/gameservers/${name}`);
  return r.status === 200 ? (r.json.spec.ports[0].port as number) : undefined;
};

describe("the Sync controller", () => {
  it("applies a folder when the Sync appears and again after its files change", async () => {
    files.write("a.yaml", gsYaml("watched"));
    const r = await srv.raw("POST", `${base}/namespaces/default/syncs`, { body: syncObject("local", { source: { path: files.dir }, interval: "1h" }) });
    expect(r.status).toBe(201);
    expect(await waitFor("first apply", () => gsPort("watched"))).toBe(25565);
    const first = (await getSync("local")).status?.lastAppliedRevision;

    files.write("a.yaml", gsYaml("watched", 27000));
    files.write("b.yaml", gsYaml("added"));
    await waitFor("the change applied", async () => ((await gsPort("watched")) === 27000 && (await gsPort("added")) !== undefined ? true : undefined));
    const s = await waitFor("status of the new revision", async () => {
      const now = await getSync("local");
      return now.status?.inventory?.length === 2 ? now : undefined;
    });
    expect(s.status?.lastAppliedRevision).not.toBe(first);
  });

  it("runs at once when a reconcile is requested: a hand-deleted object is back before the interval", async () => {
    expect((await srv.raw("DELETE", `${base}/namespaces/default/gameservers/added`)).status).toBe(200);
    expect(await gsPort("added")).toBeUndefined();
    const before = await getSync("local");
    const annotated = { ...before, metadata: { ...before.metadata, annotations: { [REQUESTED_AT_ANNOTATION]: new Date(0).toISOString() } } };
    expect((await srv.raw("PUT", `${base}/namespaces/default/syncs/local`, { body: annotated })).status).toBe(200);
    expect(await waitFor("the object put back", () => gsPort("added"))).toBe(25565);
  });

  it("leaves applying to the leader", async () => {
    leader = false;
    try {
      files.write("c.yaml", gsYaml("standby"));
      // The watcher fired and the standby requeued the key instead of applying it.
      await waitFor("the standby to refuse a run", () => (standbyRefusals > 0 ? true : undefined));
      expect(await gsPort("standby")).toBeUndefined();
    } finally {
      leader = true;
    }
    expect(await waitFor("applied once leading", () => gsPort("standby"))).toBe(25565);
  });
});
