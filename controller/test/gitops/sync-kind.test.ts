// The Sync kind as the embedded API server serves it: discovery, strict validation of the
// spec, the status subresource, kubectl-style columns and `zlh get syncs`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { realClock } from "../../src/engine/clock.js";
import { startTestServer, type TestServer } from "../api/api-test-server.js";
import { captureIO } from "../cli/fixtures.js";

let srv: TestServer;
const base = "/apis/zerolaghub.dev/v1alpha1";
const sync = (name: string, spec: object) => ({ apiVersion: "zerolaghub.dev/v1alpha1", kind: "Sync", metadata: { name, namespace: "default" }, spec });

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.dispose();
});

describe("the Sync kind", () => {
  it("is listed by discovery as namespaced with a status subresource, outside the `all` category", async () => {
    const r = await srv.raw("GET", base);
    const names = (r.json.resources as { name: string; namespaced: boolean; categories?: string[] }[]);
    const syncs = names.find((x) => x.name === "syncs");
    expect(syncs?.namespaced).toBe(true);
    expect(syncs?.categories ?? []).not.toContain("all");
    expect(names.map((x) => x.name)).toContain("syncs/status");
  });

  it("accepts a path source and refuses a spec naming both sources or an unknown field", async () => {
    const ok = await srv.raw("POST", `${base}/namespaces/default/syncs`, { body: sync("local", { source: { path: "/srv/gitops" }, interval: "30s" }) });
    expect(ok.status).toBe(201);
    const both = await srv.raw("POST", `${base}/namespaces/default/syncs`, { body: sync("both", { source: { path: "/a", git: { url: "file:///r" } } }) });
    expect(both.status).toBe(422);
    expect(both.text).toMatch(/spec\.source/);
    const extra = await srv.raw("POST", `${base}/namespaces/default/syncs`, { body: sync("extra", { source: { path: "/a" }, pruneAll: true }) });
    expect(extra.status).toBe(422);
    expect(extra.text).toMatch(/spec\.pruneAll: unknown field/);
    const relative = await srv.raw("POST", `${base}/namespaces/default/syncs`, { body: sync("rel", { source: { path: "relative/dir" } }) });
    expect(relative.status).toBe(422);
  });

  it("keeps status apart from spec and shows it in `zlh get syncs`", async () => {
    const created = await srv.raw("POST", `${base}/namespaces/default/syncs`, { body: sync("repo", { source: { git: { url: "file:///srv/repo.git", ref: "main" } } }) });
    expect(created.status).toBe(201);
    const status = {
      lastAppliedRevision: "0123456789abcdef0123456789abcdef01234567",
      conditions: [{ type: "Ready", status: "True", reason: "Applied", message: "Applied revision 0123456789ab", lastTransitionTime: "2026-01-01T00:00:00Z" }],
      inventory: [{ kind: "GameServer", namespace: "default", name: "mc" }],
    };
    const put = await srv.raw("PUT", `${base}/namespaces/default/syncs/repo/status`, { body: { ...created.json, status } });
    expect(put.status).toBe(200);

    const io = captureIO({ clock: realClock });
    const code = await runCli(["get", "syncs", "--kubeconfig", srv.api.kubeconfigPath, "-o", "wide"], io);
    expect(code).toBe(0);
    expect(io.stdout[0]).toMatch(/^NAME\s+READY\s+REVISION\s+SUSPENDED\s+AGE\s+MESSAGE\s+SOURCE\s+INVENTORY$/);
    const row = io.stdout.find((l) => l.startsWith("repo "));
    expect(row).toMatch(/^repo\s+True\s+0123456789ab\s+false\s+\S+\s+Applied revision 0123456789ab\s+file:\/\/\/srv\/repo\.git@main\s+1$/);

    const mixed = captureIO({ clock: realClock });
    expect(await runCli(["get", "syncs,gs", "--kubeconfig", srv.api.kubeconfigPath], mixed)).toBe(1);
    expect(mixed.stderr[0]).toMatch(/syncs have their own columns/);
  });
});
