// The CLI's commands against the real embedded API server on 127.0.0.1 (no controller runs,
// so nothing ever reaches Running and objects have no finalizers).
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startApiServer, type RunningApiServer } from "../../src/api/server.js";
import { realClock } from "../../src/engine/clock.js";
import { runCli } from "../../src/cli/main.js";
import { captureIO, devEnvYaml, gameServerYaml, tempDir, type CapturedIO } from "./fixtures.js";

let tmp: ReturnType<typeof tempDir>;
let api: RunningApiServer;
let ns = "";
let nsCounter = 0;

beforeAll(async () => {
  tmp = tempDir("zlh-cli-api-");
  api = await startApiServer({ dataDir: join(tmp.dir, "data"), listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
});
afterAll(async () => {
  await api?.close();
  tmp?.cleanup();
});
beforeEach(() => {
  // Each test gets its own namespace, so tests never see each other's objects.
  ns = `t${++nsCounter}`;
});

async function zlh(...args: string[]): Promise<{ code: number; io: CapturedIO }> {
  const io = captureIO({ clock: realClock });
  const code = await runCli([...args, "--kubeconfig", api.kubeconfigPath, "-n", ns], io);
  return { code, io };
}

describe("zlh apply", () => {
  it("creates, then reports unchanged, then configured after an edit", async () => {
    const f = tmp.write(`${ns}/mc.yaml`, `${gameServerYaml("mc1")}---\n${devEnvYaml("dev1")}`);
    const first = await zlh("apply", "-f", f);
    expect(first.code).toBe(0);
    expect(first.io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 created", "devenvironment.zerolaghub.dev/dev1 created"]);

    const again = await zlh("apply", "-f", f);
    expect(again.io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 unchanged", "devenvironment.zerolaghub.dev/dev1 unchanged"]);

    tmp.write(`${ns}/mc.yaml`, `${gameServerYaml("mc1").replace("25565", "25570")}---\n${devEnvYaml("dev1")}`);
    const edited = await zlh("apply", "-f", f);
    expect(edited.code).toBe(0);
    expect(edited.io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 configured", "devenvironment.zerolaghub.dev/dev1 unchanged"]);

    const got = await zlh("get", "gs", "mc1", "-o", "json");
    const obj = JSON.parse(got.io.stdout.join("\n"));
    expect(obj.spec.ports[0].port).toBe(25570);
    expect(obj.metadata.generation).toBe(2);
  });

  it("applies nothing when one document of several is invalid", async () => {
    const f = tmp.write(`${ns}/mixed.yaml`, [gameServerYaml("good"), gameServerYaml("bad").replace("generic", "chess"), devEnvYaml("dev1")].join("---\n"));
    const r = await zlh("apply", "-f", f);
    expect(r.code).toBe(1);
    expect(r.io.stderr[0]).toMatch(/mixed\.yaml:17:\d+ \(document 2, GameServer "bad"\): \.spec\.game: must be one of/);
    const list = await zlh("get", "all", "-o", "json");
    expect(JSON.parse(list.io.stdout.join("\n")).items).toEqual([]);
  });

  it("--dry-run reports what would happen and changes nothing", async () => {
    const f = tmp.write(`${ns}/dry.yaml`, gameServerYaml("mc1"));
    const r = await zlh("apply", "-f", f, "--dry-run");
    expect(r.code).toBe(0);
    expect(r.io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 created (dry run)"]);
    const get = await zlh("get", "gs", "mc1");
    expect(get.code).toBe(1);
    expect(get.io.stderr).toEqual(['gameservers.zerolaghub.dev "mc1" not found']);

    await zlh("apply", "-f", f);
    tmp.write(`${ns}/dry.yaml`, gameServerYaml("mc1", "  hostname: other\n"));
    expect((await zlh("apply", "-f", f, "--dry-run")).io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 configured (dry run)", '  spec.hostname: <none> -> "other"']);
    const after = JSON.parse((await zlh("get", "gs", "mc1", "-o", "json")).io.stdout.join("\n"));
    expect(after.spec.hostname).toBeUndefined();
  });

  it("merges labels and keeps the stored status when updating", async () => {
    const f = tmp.write(`${ns}/labels.yaml`, gameServerYaml("mc1").replace("  name: mc1", "  name: mc1\n  labels: {tier: gold}"));
    await zlh("apply", "-f", f);
    tmp.write(`${ns}/labels.yaml`, gameServerYaml("mc1").replace("  name: mc1", "  name: mc1\n  labels: {owner: ana}"));
    expect((await zlh("apply", "-f", f)).io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 configured"]);
    const obj = JSON.parse((await zlh("get", "gs", "mc1", "-o", "json")).io.stdout.join("\n"));
    expect(obj.metadata.labels).toEqual({ tier: "gold", owner: "ana" });
  });
});

describe("zlh get", () => {
  it("prints a table, json, yaml and names", async () => {
    const f = tmp.write(`${ns}/two.yaml`, `${gameServerYaml("mc1")}---\n${devEnvYaml("dev1")}`);
    await zlh("apply", "-f", f);

    const table = await zlh("get", "gs");
    expect(table.code).toBe(0);
    expect(table.io.stdout[0]).toMatch(/^NAME +PHASE +VMID +HOST +READY +AGE$/);
    expect(table.io.stdout[1]).toMatch(/^mc1 +Pending +<none> +<none> +Unknown +\d+s$/);
    expect(table.io.stdout).toHaveLength(2);

    const all = await zlh("get", "all", "-o", "wide");
    expect(all.io.stdout[0]).toMatch(/^NAME +KIND +PHASE +VMID +HOST +READY +AGE +IP +ENDPOINTS +RESTARTS +MESSAGE$/);
    expect(all.io.stdout.slice(1).map((l) => l.split(/ +/).slice(0, 2))).toEqual([["mc1", "GameServer"], ["dev1", "DevEnvironment"]]);

    const list = JSON.parse((await zlh("get", "gs,dev", "-o", "json")).io.stdout.join("\n"));
    expect(list.kind).toBe("List");
    expect(list.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(["mc1", "dev1"]);

    const yaml = await zlh("get", "dev", "dev1", "-o", "yaml");
    expect(yaml.io.stdout).toContain("kind: DevEnvironment");
    expect(yaml.io.stdout).toContain(`  namespace: ${ns}`);

    expect((await zlh("get", "all", "-o", "name")).io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1", "devenvironment.zerolaghub.dev/dev1"]);
  });

  it("lists across namespaces with a NAMESPACE column", async () => {
    await zlh("apply", "-f", tmp.write(`${ns}/a.yaml`, gameServerYaml("mc-a")));
    const r = await zlh("get", "gs", "-A");
    expect(r.io.stdout[0]).toMatch(/^NAMESPACE +NAME +PHASE/);
    expect(r.io.stdout.some((l) => new RegExp(`^${ns} +mc-a +Pending`).test(l))).toBe(true);
  });

  it("says so on stderr when there is nothing to list", async () => {
    const r = await zlh("get", "gs");
    expect(r.code).toBe(0);
    expect(r.io.stdout).toEqual([]);
    expect(r.io.stderr).toEqual([`No resources found in ${ns} namespace.`]);
  });

  it("-w prints the table, then a row for each change until interrupted", async () => {
    await zlh("apply", "-f", tmp.write(`${ns}/w1.yaml`, gameServerYaml("mc1")));
    const io = captureIO({ clock: realClock });
    const watching = runCli(["get", "gs", "-w", "--kubeconfig", api.kubeconfigPath, "-n", ns], io);
    await until(() => io.stdout.length >= 2);
    await zlh("apply", "-f", tmp.write(`${ns}/w2.yaml`, gameServerYaml("mc2")));
    await until(() => io.stdout.some((l) => l.startsWith("mc2 ")));
    await zlh("delete", "gs", "mc2");
    await until(() => io.stdout.some((l) => /^mc2 +Deleted /.test(l)));
    io.abort();
    expect(await watching).toBe(0);
    expect(io.stdout[0]).toMatch(/^NAME +PHASE/);
    expect(io.stdout[1]).toMatch(/^mc1 +Pending/);
  });
});

describe("zlh describe", () => {
  it("shows metadata, spec, status, conditions and events sections", async () => {
    await zlh("apply", "-f", tmp.write(`${ns}/d.yaml`, gameServerYaml("mc1").replace("  name: mc1", "  name: mc1\n  labels: {tier: gold}")));
    const r = await zlh("describe", "gs", "mc1");
    expect(r.code).toBe(0);
    const text = r.io.stdout.join("\n");
    expect(text).toContain("Name:        mc1");
    expect(text).toContain(`Namespace:   ${ns}`);
    expect(text).toContain("Labels:      tier=gold");
    expect(text).toMatch(/Spec:\n {2}game: generic\n {2}command:/);
    expect(text).toContain("Status:\n  Phase:       Pending");
    expect(text).toContain("Conditions:  <none>");
    expect(text).toContain("Events:      <none>");
  });

  it("shows only this object's events (not an earlier one's of the same name), with control characters escaped", async () => {
    await zlh("apply", "-f", tmp.write(`${ns}/ev.yaml`, gameServerYaml("mc1")));
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const uid = JSON.parse((await zlh("get", "gs", "mc1", "-o", "json")).io.stdout.join("\n")).metadata.uid as string;
    const event = (name: string, forUid: string, message: string) => ({
      metadata: { name, namespace: ns },
      involvedObject: { apiVersion: "zerolaghub.dev/v1alpha1", kind: "GameServer", name: "mc1", namespace: ns, uid: forUid },
      reason: "Provisioned",
      message,
      type: "Normal",
      count: 1,
      source: { component: "zlh-controller" },
    });
    await core.createNamespacedEvent({ namespace: ns, body: event("mc1.old", "uid-of-a-deleted-mc1", "from the earlier mc1") });
    await core.createNamespacedEvent({ namespace: ns, body: event("mc1.now", uid, "hello\u001b]0;pwned\u0007\nForged: line") });
    const text = (await zlh("describe", "gs", "mc1")).io.stdout.join("\n");
    expect(text).not.toContain("from the earlier mc1");
    expect(text).toContain("hello\\x1b]0;pwned\\x07\\x0aForged: line");
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it("exits 1 naming an object that does not exist", async () => {
    const r = await zlh("describe", "dev", "ghost");
    expect(r.code).toBe(1);
    expect(r.io.stderr).toEqual(['devenvironments.zerolaghub.dev "ghost" not found']);
  });
});

describe("zlh get -l", () => {
  it("lists only objects whose labels match, and refuses a selector with a name", async () => {
    const labelled = (name: string, tier: string) => gameServerYaml(name).replace(`  name: ${name}\n`, `  name: ${name}\n  labels: {tier: ${tier}}\n`);
    await zlh("apply", "-f", tmp.write(`${ns}/labels.yaml`, `${labelled("gold1", "gold")}---\n${labelled("iron1", "iron")}---\n${labelled("gold2", "gold")}`));
    const gold = await zlh("get", "gs", "-l", "tier=gold", "-o", "name");
    expect(gold.code).toBe(0);
    expect(gold.io.stdout).toEqual(["gameserver.zerolaghub.dev/gold1", "gameserver.zerolaghub.dev/gold2"]);
    expect((await zlh("get", "gs", "-l", "tier!=gold", "-o", "name")).io.stdout).toEqual(["gameserver.zerolaghub.dev/iron1"]);
    const both = await zlh("get", "gs", "gold1", "-l", "tier=gold");
    expect(both.code).toBe(1);
    expect(both.io.stderr).toEqual(["error: -l selects from lists: drop the name or the selector"]);
  });
});

describe("zlh delete", () => {
  it("deletes by name, and reports a missing object (exit 0 only with --ignore-not-found)", async () => {
    await zlh("apply", "-f", tmp.write(`${ns}/del.yaml`, gameServerYaml("mc1")));
    const r = await zlh("delete", "gs", "mc1");
    expect(r.code).toBe(0);
    expect(r.io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 deleted"]);
    expect((await zlh("get", "gs", "mc1")).code).toBe(1);

    const missing = await zlh("delete", "gs", "mc1");
    expect(missing.code).toBe(1);
    expect(missing.io.stderr).toEqual(["gameserver.zerolaghub.dev/mc1 not found"]);
    const ignored = await zlh("delete", "gs", "mc1", "--ignore-not-found");
    expect(ignored.code).toBe(0);
    // Silent, as with kubectl: "not found" on stdout read like a failure in scripts.
    expect([...ignored.io.stdout, ...ignored.io.stderr]).toEqual([]);
  });

  it("--all deletes every object of the kinds in the namespace, and only there", async () => {
    await zlh("apply", "-f", tmp.write(`${ns}/all.yaml`, `${gameServerYaml("a")}---\n${gameServerYaml("b")}---\n${devEnvYaml("d")}`));
    const other = `${ns}-other`;
    const io = captureIO({ clock: realClock });
    await runCli(["apply", "-f", tmp.write(`${ns}/other.yaml`, gameServerYaml("keep")), "--kubeconfig", api.kubeconfigPath, "-n", other], io);

    const r = await zlh("delete", "all", "--all", "--wait", "--timeout", "30s");
    expect(r.code).toBe(0);
    expect([...r.io.stdout].sort()).toEqual(["devenvironment.zerolaghub.dev/d deleted", "gameserver.zerolaghub.dev/a deleted", "gameserver.zerolaghub.dev/b deleted"]);
    expect(JSON.parse((await zlh("get", "all", "-o", "json")).io.stdout.join("\n")).items).toEqual([]);
    const kept = captureIO({ clock: realClock });
    await runCli(["get", "gs", "-o", "name", "--kubeconfig", api.kubeconfigPath, "-n", other], kept);
    expect(kept.stdout).toEqual(["gameserver.zerolaghub.dev/keep"]);
    expect((await zlh("delete", "gs", "x", "--all")).code).toBe(1);
  });

  it("--wait with -f waits until each object is gone", async () => {
    const f = tmp.write(`${ns}/delw.yaml`, `${gameServerYaml("mc1")}---\n${devEnvYaml("dev1")}`);
    await zlh("apply", "-f", f);
    const r = await zlh("delete", "-f", f, "--wait", "--timeout", "30s");
    expect(r.code).toBe(0);
    expect(r.io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 deleted", "devenvironment.zerolaghub.dev/dev1 deleted"]);
    const left = JSON.parse((await zlh("get", "all", "-o", "json")).io.stdout.join("\n"));
    expect(left.items).toEqual([]);
  });
});

/** Polls `cond` until true, failing after a generous bound rather than sleeping a fixed time. */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
