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

  it("sorts by a status field, shows wide columns, and answers `get all` and `get zlh`", async () => {
    const api = t.kc.makeApiClient(CustomObjectsApi);
    await kubectl("apply", "-f", file("mc3.yaml", manifest("mc3")));
    for (const [name, vmid] of [["mc1", 305], ["mc2", 104], ["mc3", 207]] as const) {
      await api.patchNamespacedCustomObjectStatus({ ...coords, name, body: { status: { phase: "Running", vmid, workload: { id: `local-${vmid}`, ip: `127.77.0.${vmid % 256}` } } } }, merge);
    }
    const sorted = await kubectl("get", "gs", "--sort-by=.status.vmid", "-o", "name");
    expect(sorted.stderr).toBe("");
    expect(sorted.stdout.trim().split("\n")).toEqual(["gameserver.zerolaghub.dev/mc2", "gameserver.zerolaghub.dev/mc3", "gameserver.zerolaghub.dev/mc1"]);
    const sortedTable = await kubectl("get", "gs", "--sort-by=.status.vmid");
    expect(sortedTable.stdout.trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["mc2", "mc3", "mc1"]);
    const wide = (await kubectl("get", "gs", "-o", "wide")).stdout.trim().split("\n");
    expect(wide[0]!.split(/\s+/)).toEqual(["NAME", "PHASE", "VMID", "HOST", "AGE", "IP", "WORKLOAD", "AGENT", "RESTARTS"]);
    expect(wide.find((l) => l.startsWith("mc1 "))).toMatch(/127\.77\.0\.49\s+local-305/);
    for (const category of ["all", "zlh"]) {
      const out = await kubectl("get", category, "-o", "name");
      expect(out.stderr).toBe("");
      expect(out.stdout.trim().split("\n")).toEqual(expect.arrayContaining(["gameserver.zerolaghub.dev/mc1", "gameserver.zerolaghub.dev/mc3"]));
    }
    // kubectl fetches lists in chunks; a chunk of one still yields every object once.
    const chunked = await kubectl("get", "gs", "--chunk-size=1", "-o", "name");
    expect(chunked.stdout.trim().split("\n")).toEqual(["gameserver.zerolaghub.dev/mc1", "gameserver.zerolaghub.dev/mc2", "gameserver.zerolaghub.dev/mc3"]);
  });

  it("explains the kinds from the same schemas the CRDs carry", async () => {
    const top = await kubectl("explain", "gameserver");
    expect(top.stderr).toBe("");
    expect(top.stdout).toMatch(/KIND:\s+GameServer/);
    expect(top.stdout).toContain("A game server: one workload running the declared command");
    expect(top.stdout).toMatch(/spec\s+<Object> -required-/);
    const ports = await kubectl("explain", "gs.spec.ports");
    expect(ports.stdout).toMatch(/port\s+<integer> -required-/);
    expect(ports.stdout).toMatch(/enum: tcp, udp/);
    expect((await kubectl("explain", "devenvironment.spec.codeServer")).stdout).toMatch(/enabled\s+<boolean>/);
    const raw = await t.raw("GET", "/openapi/v2");
    expect(raw.json.definitions["dev.zerolaghub.v1alpha1.GameServer"]["x-kubernetes-group-version-kind"]).toEqual([{ group: GROUP, version: VERSION, kind: "GameServer" }]);
    // client-go asks for v2 as protobuf only; it gets a 406 it can report, not bytes it cannot parse.
    expect((await t.raw("GET", "/openapi/v2", { headers: { Accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" } })).status).toBe(406);
  });

  it("diffs a changed file (exit 1) and dry-runs an apply on the server without storing it", async () => {
    const api = t.kc.makeApiClient(CustomObjectsApi);
    const live = (await api.getNamespacedCustomObject({ ...coords, name: "mc1" })).spec.ports[0].port as number;
    const changed = file("mc1-diff.yaml", manifest("mc1", 25599));
    const diff = await kubectl("diff", "-f", changed);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(new RegExp(`^-\\s+port: ${live}$`, "m"));
    expect(diff.stdout).toMatch(/^\+\s+port: 25599$/m);
    const same = await kubectl("diff", "-f", file("mc1-same.yaml", manifest("mc1", live)));
    expect(same.code).toBe(0);
    expect(same.stdout).toBe("");
    const dry = await kubectl("apply", "--dry-run=server", "-f", changed);
    expect(dry.stdout.trim()).toBe("gameserver.zerolaghub.dev/mc1 configured (server dry run)");
    const created = await kubectl("apply", "--dry-run=server", "-f", file("new.yaml", manifest("never")));
    expect(created.stdout.trim()).toBe("gameserver.zerolaghub.dev/never created (server dry run)");
    expect((await api.getNamespacedCustomObject({ ...coords, name: "mc1" })).spec.ports[0].port).toBe(live);
    expect((await kubectl("get", "gs", "never")).code).not.toBe(0);
    const bad = await kubectl("apply", "--dry-run=server", "-f", file("bad.yaml", manifest("mc1", 0)));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(".spec.ports[0].port");
  });

  it("deletes with `delete gs` and waits for the object to go", async () => {
    const out = await kubectl("delete", "gs", "mc2");
    expect(out.stdout.trim()).toBe('gameserver.zerolaghub.dev "mc2" deleted');
    const missing = await kubectl("get", "gs", "mc2");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('gameservers.zerolaghub.dev "mc2" not found');
  });
});
