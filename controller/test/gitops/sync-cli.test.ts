// `zlh sync create|suspend|resume|reconcile` and `zlh describe sync` against the embedded server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sync } from "../../../schemas/generated/types.js";
import { runCli } from "../../src/cli/main.js";
import { realClock } from "../../src/engine/clock.js";
import { REQUESTED_AT_ANNOTATION } from "../../src/gitops/inventory.js";
import { startTestServer, type TestServer } from "../api/api-test-server.js";
import { captureIO } from "../cli/fixtures.js";
import { base } from "./sync-helpers.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.dispose();
});

async function zlh(...args: string[]) {
  const io = captureIO({ clock: realClock });
  const code = await runCli([...args, "--kubeconfig", srv.api.kubeconfigPath], io);
  return { code, io };
}
const getSync = async (name: string): Promise<Sync> => (await srv.raw("GET", `${base}/namespaces/default/syncs/${name}`)).json as Sync;

describe("zlh sync", () => {
  it("creates path and git Syncs, refusing two sources or a bad interval by flag name", async () => {
    expect((await zlh("sync", "create", "local", "--path", "/srv/site", "--interval", "30s")).io.stdout).toEqual(["sync.zerolaghub.dev/local created"]);
    expect((await getSync("local")).spec).toEqual({ source: { path: "/srv/site" }, interval: "30s", prune: true });
    const git = await zlh("sync", "create", "repo", "--git", "ssh://git@example.invalid/site.git", "--ref", "v1", "--ssh-key-file", "/keys/id", "--no-prune");
    expect(git.code).toBe(0);
    expect((await getSync("repo")).spec).toEqual({ source: { git: { url: "ssh://git@example.invalid/site.git", ref: "v1", secretRef: { sshKeyFile: "/keys/id" } } }, interval: "1m", prune: false });
    const both = await zlh("sync", "create", "x", "--path", "/a", "--git", "file:///b");
    expect(both.code).toBe(1);
    expect(both.io.stderr[0]).toBe("error: give exactly one source: --path DIR or --git URL");
    const bad = await zlh("sync", "create", "y", "--path", "/a", "--interval", "soon");
    expect(bad.io.stderr[0]).toMatch(/^error: --interval: must match/);
  });

  it("suspends, resumes and requests a run", async () => {
    expect((await zlh("sync", "suspend", "local")).io.stdout).toEqual(["sync.zerolaghub.dev/local suspended"]);
    expect((await getSync("local")).spec.suspend).toBe(true);
    const refused = await zlh("sync", "reconcile", "local");
    expect(refused.io.stderr[0]).toMatch(/is suspended: resume it first/);
    expect((await zlh("sync", "resume", "local")).io.stdout).toEqual(["sync.zerolaghub.dev/local resumed"]);
    expect((await zlh("sync", "reconcile", "local")).io.stdout).toEqual(["sync.zerolaghub.dev/local reconcile requested"]);
    expect((await getSync("local")).metadata.annotations?.[REQUESTED_AT_ANNOTATION]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await zlh("sync", "resume", "nope")).code).toBe(1);
  });

  it("describes a Sync with its errors by file and line and its inventory", async () => {
    const s = await getSync("local");
    const status = {
      lastAppliedRevision: "sha256:abc",
      lastAttemptedRevision: "sha256:def",
      counts: { applied: 1, unchanged: 0, pruned: 0, failed: 1 },
      errors: [{ file: "c.yaml", line: 6, col: 3, message: ".spec.game: must be one of \"generic\", \"minecraft\"" }],
      inventory: [{ kind: "GameServer", namespace: "default", name: "alpha", file: "a.yaml", ready: "True" }],
    };
    expect((await srv.raw("PUT", `${base}/namespaces/default/syncs/local/status`, { body: { ...s, status } })).status).toBe(200);
    const d = await zlh("describe", "sync", "local");
    expect(d.code).toBe(0);
    const text = d.io.stdout.join("\n");
    expect(text).toMatch(/Applied:\s+sha256:abc/);
    expect(text).toMatch(/Attempted:\s+sha256:def/);
    expect(text).toMatch(/c\.yaml:6:3: \.spec\.game: must be one of/);
    expect(text).toMatch(/GameServer\s+default\s+alpha\s+True\s+a\.yaml/);
  });
});
