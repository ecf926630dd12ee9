// git sources with the system git binary against repositories the test creates (file://
// URLs): the commit SHA is the revision, branches, tags and SHAs resolve, a new commit is
// picked up when the interval passes on an injected clock, and a bad ref is a source error.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Sync } from "../../../schemas/generated/types.js";
import { FakeClock } from "../../src/engine/clock.js";
import { apiObjects } from "../../src/gitops/apply.js";
import { GitCache } from "../../src/gitops/git-source.js";
import { startSyncController, apiSyncs } from "../../src/gitops/sync-controller.js";
import { makeSyncReconciler } from "../../src/gitops/sync-reconciler.js";
import { silentLogger, startTestServer, waitFor, type TestServer } from "../api/api-test-server.js";
import { base, folder, gsYaml, memoryEvents, syncObject } from "./sync-helpers.js";

let srv: TestServer;
let repo: ReturnType<typeof folder>;
let cache: string;
let ns = "";
let n = 0;

const gitIn = (dir: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: "1" } }).toString().trim();
const commit = (message: string) => {
  gitIn(repo.dir, "add", "-A");
  gitIn(repo.dir, "commit", "-q", "--allow-empty", "-m", message);
  return gitIn(repo.dir, "rev-parse", "HEAD");
};

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.dispose();
});
beforeEach(() => {
  ns = `git${++n}`;
  repo = folder("zlh-gitops-repo-");
  cache = mkdtempSync(join(tmpdir(), "zlh-gitops-cache-"));
  gitIn(repo.dir, "init", "-q", "-b", "main");
  return () => {
    repo.cleanup();
    rmSync(cache, { recursive: true, force: true });
  };
});

const getSync = async (name: string): Promise<Sync> => (await srv.raw("GET", `${base}/namespaces/${ns}/syncs/${name}`)).json as Sync;
const gsPort = async (name: string): Promise<number | undefined> => {
  const r = await srv.raw("GET", `${base}/namespaces/${ns}/gameservers/${name}`);
  return r.status === 200 ? (r.json.spec.ports[0].port as number) : undefined;
};

function reconciler() {
  const git = new GitCache(cache, silentLogger);
  return makeSyncReconciler({
    objects: apiObjects(srv.kc),
    syncs: apiSyncs(srv.kc),
    fetch: (s) => git.fetch(s.metadata.name, s.metadata.uid!, s.spec.source.git!),
    events: memoryEvents(),
    clock: new FakeClock(),
    logger: silentLogger,
  });
}

async function create(name: string, spec: Sync["spec"]): Promise<void> {
  expect((await srv.raw("POST", `${base}/namespaces/${ns}/syncs`, { body: syncObject(name, spec, ns) })).status).toBe(201);
}

describe("Sync from a git repository", () => {
  it("applies the branch head under spec.path, names the commit as the revision and prunes a deleted file", async () => {
    repo.write("apps/a.yaml", gsYaml("alpha"));
    repo.write("apps/b.yaml", gsYaml("beta"));
    repo.write("README.yaml.txt", "not a manifest");
    const first = commit("two servers");
    await create("repo", { source: { git: { url: `file://${repo.dir}`, ref: "main" } }, path: "apps" });
    const run = reconciler();
    await run(ns, "repo");
    const s = await getSync("repo");
    expect(s.status?.lastAppliedRevision).toBe(first);
    expect(s.status?.inventory?.map((e) => `${e.name}@${e.file}`)).toEqual(["alpha@a.yaml", "beta@b.yaml"]);

    repo.remove("apps/b.yaml");
    const second = commit("drop beta");
    await run(ns, "repo");
    const after = await getSync("repo");
    expect(after.status?.lastAppliedRevision).toBe(second);
    expect(after.status?.counts?.pruned).toBe(1);
    expect(await gsPort("beta")).toBeUndefined();
  });

  it("resolves a tag and a commit SHA, and reports a ref that is neither", async () => {
    repo.write("a.yaml", gsYaml("alpha", 25000));
    const tagged = commit("v1");
    gitIn(repo.dir, "tag", "v1");
    repo.write("a.yaml", gsYaml("alpha", 26000));
    commit("v2");
    await create("tagged", { source: { git: { url: `file://${repo.dir}`, ref: "v1" } } });
    const run = reconciler();
    await run(ns, "tagged");
    expect((await getSync("tagged")).status?.lastAppliedRevision).toBe(tagged);
    expect(await gsPort("alpha")).toBe(25000);

    await create("pinned", { source: { git: { url: `file://${repo.dir}`, ref: tagged } }, targetNamespace: `${ns}-pinned` });
    await run(ns, "pinned");
    expect((await getSync("pinned")).status?.lastAppliedRevision).toBe(tagged);

    await create("nope", { source: { git: { url: `file://${repo.dir}`, ref: "no-such-branch" } } });
    await run(ns, "nope");
    const ready = (await getSync("nope")).status?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "SourceFailed" });
    expect(ready?.message).toMatch(/ref "no-such-branch" is not a branch, tag or commit/);

    await create("missing", { source: { git: { url: `file://${repo.dir}/absent` } } });
    await run(ns, "missing");
    expect((await getSync("missing")).status?.conditions?.[0]?.message).toMatch(/^source: git fetch: /);
  });

  it("polls at spec.interval on the controller's clock", async () => {
    repo.write("a.yaml", gsYaml("polled", 25000));
    commit("one");
    const clock = new FakeClock(Date.now());
    const ctl = await startSyncController({ kubeConfig: srv.kc, logger: silentLogger, events: memoryEvents(), cacheDir: cache, clock, progressingMs: 3_600_000 });
    try {
      await ctl.ready;
      await create("poll", { source: { git: { url: `file://${repo.dir}` } }, interval: "10m" });
      expect(await waitFor("first apply", () => gsPort("polled"))).toBe(25000);
      await waitFor("the interval requeue", () => (ctl.queue.delayedCount() > 0 && ctl.queue.inFlight() === 0 ? true : undefined));
      repo.write("a.yaml", gsYaml("polled", 26000));
      const next = commit("two");
      // git has no watcher: only the interval timer, on the injected clock, can fetch again.
      clock.advance(10 * 60_000 + 5000);
      expect(await waitFor("the polled commit", async () => ((await gsPort("polled")) === 26000 ? true : undefined))).toBe(true);
      await waitFor("status", async () => ((await getSync("poll")).status?.lastAppliedRevision === next ? true : undefined));
    } finally {
      await ctl.close();
    }
  });
});
