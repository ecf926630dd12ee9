// The stock kubectl against the embedded server, with nothing but the generated kubeconfig.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, removeDir, startTestServer, VERSION, waitFor, type TestServer } from "./api-test-server.js";

const KUBECTL = "/usr/bin/kubectl";
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const coords = { group: GROUP, version: VERSION, namespace: "default", plural: "gameservers" };

const manifest = (name: string, port = 25565): string => `apiVersion: zerolaghub.dev/v1alpha1
kind: GameServer
metadata:
  name: ${name}
spec:
  game: generic
  command: ["python3", "-m", "http.server"]
  ports:
    - name: game
      port: ${port}
`;

describe.skipIf(!existsSync(KUBECTL))("kubectl", () => {
  let t: TestServer;
  let work: string;
  const kubectl = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(KUBECTL, ["--kubeconfig", t.api.kubeconfigPath, "--cache-dir", join(work, "cache"), ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const file = (name: string, text: string): string => {
    const p = join(work, name);
    writeFileSync(p, text);
    return p;
  };

  beforeAll(async () => {
    t = await startTestServer();
    work = mkdtempSync(join(tmpdir(), "zlh-kubectl-"));
  });
  afterAll(async () => {
    await t.dispose();
    removeDir(work);
  });

  it("applies a GameServer YAML with default validation, then configures it on a change", async () => {
    const created = await kubectl("apply", "-f", file("mc1.yaml", manifest("mc1")));
    expect(created.stderr).toBe("");
    expect(created.stdout.trim()).toBe("gameserver.zerolaghub.dev/mc1 created");
    const changed = await kubectl("apply", "-f", file("mc1b.yaml", manifest("mc1", 25570)));
    expect(changed.stdout.trim()).toBe("gameserver.zerolaghub.dev/mc1 configured");
    const stored = await t.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...coords, name: "mc1" });
    expect(stored.spec.ports[0].port).toBe(25570);
    expect(stored.metadata.generation).toBe(2);
    expect((await kubectl("apply", "--validate=false", "-f", file("mc1.yaml", manifest("mc1")))).stdout.trim()).toBe("gameserver.zerolaghub.dev/mc1 configured");
    // `kubectl patch` sends a strategic merge patch by default.
    expect((await kubectl("patch", "gs", "mc1", "-p", '{"metadata":{"labels":{"tier":"gold"}}}')).stdout.trim()).toBe("gameserver.zerolaghub.dev/mc1 patched");
    expect((await kubectl("get", "gs", "-l", "tier=gold", "-o", "name")).stdout.trim()).toBe("gameserver.zerolaghub.dev/mc1");
  });

  it("creates from a file and reports AlreadyExists the way the server said it", async () => {
    const path = file("mc2.yaml", manifest("mc2"));
    expect((await kubectl("create", "-f", path)).stdout.trim()).toBe("gameserver.zerolaghub.dev/mc2 created");
    const again = await kubectl("create", "-f", path);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('gameservers.zerolaghub.dev "mc2" already exists');
  });

  it("shows the phase in `get gs` and the objects in `get gs -o json`", async () => {
    await t.kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus(
      { ...coords, name: "mc1", body: { status: { phase: "Running", vmid: 101, endpoints: [{ name: "game", host: "mc1.zlh.localhost", port: 25565, protocol: "tcp", url: "tcp://mc1.zlh.localhost:25565" }] } } },
      merge,
    );
    const table = await kubectl("get", "gs");
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["NAME", "PHASE", "VMID", "HOST", "AGE"]);
    expect(lines.find((l) => l.startsWith("mc1 "))?.split(/\s+/).slice(0, 4)).toEqual(["mc1", "Running", "101", "mc1.zlh.localhost"]);
    const json = JSON.parse((await kubectl("get", "gs", "-o", "json")).stdout);
    expect(json.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(["mc1", "mc2"]);
    expect(json.items[0].status.phase).toBe("Running");
  });

  it("describes a GameServer with its events", async () => {
    const gs = await t.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...coords, name: "mc1" });
    await t.kc.makeApiClient(CoreV1Api).createNamespacedEvent({
      namespace: "default",
      body: {
        metadata: { name: "mc1.e1" },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: "GameServer", name: "mc1", namespace: "default", uid: gs.metadata.uid },
        reason: "WorkloadCreated",
        message: "container 101 is up",
        type: "Normal",
        source: { component: "zlh-controller" },
      },
    });
    const out = await kubectl("describe", "gs", "mc1");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Name:\s+mc1$/m);
    expect(out.stdout).toMatch(/Phase:\s+Running/);
    expect(out.stdout).toMatch(/Normal\s+WorkloadCreated\s+.*container 101 is up/);
  });

  it("streams changes with `get gs -w`", async () => {
    const child = spawn(KUBECTL, ["--kubeconfig", t.api.kubeconfigPath, "--cache-dir", join(work, "cache"), "get", "gs", "-w"]);
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    try {
      await waitFor("the initial table", () => (/^mc2\s/m.test(out) ? true : undefined), 20_000);
      await t.kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus({ ...coords, name: "mc2", body: { status: { phase: "Starting" } } }, merge);
      await waitFor("the watched change", () => (/^mc2\s+Starting/m.test(out) ? true : undefined), 20_000);
    } finally {
      child.kill();
    }
    expect(out.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "PHASE", "VMID", "HOST", "AGE"]);
  });

  it("deletes with `delete gs` and waits for the object to go", async () => {
    const out = await kubectl("delete", "gs", "mc2");
    expect(out.stdout.trim()).toBe('gameserver.zerolaghub.dev "mc2" deleted');
    const missing = await kubectl("get", "gs", "mc2");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('gameservers.zerolaghub.dev "mc2" not found');
  });
});
