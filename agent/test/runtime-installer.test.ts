// The runtime step against the real artifact server on 127.0.0.1:0, real tar archives and
// real shells: install, upgrade, rollback without download, removal, checksum and size
// mismatches that leave nothing behind, a resumed download and a cleaned interrupted extract.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCatalog } from "../../controller/src/catalog/catalog-file.js";
import { startArtifactServer, type RunningArtifactServer } from "../../controller/src/catalog/artifact-server.js";
import { publishArtifact } from "../../controller/src/catalog/publish.js";
import type { AgentSpec } from "../src/controller-client.js";
import { realClock } from "../src/clock.js";
import { ProvisioningError, type StepContext } from "../src/provisioning.js";
import { runtimeStep, type RuntimeArtifact } from "../src/runtime-step.js";
import { partFile, runtimePaths, runtimesDir } from "../src/runtime-store.js";

let work: string;
let artDir: string;
let server: RunningArtifactServer;
const silent = pino({ level: "silent" });

/** A tar.gz holding bin/node, a script that prints its version. */
function buildRuntime(version: string): string {
  const src = join(work, "src", version);
  mkdirSync(join(src, "bin"), { recursive: true });
  writeFileSync(join(src, "bin", "node"), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
  writeFileSync(join(src, "README"), `runtime ${version}\n`);
  const out = join(work, `node-${version}.tar.gz`);
  execFileSync("tar", ["-czf", out, "-C", src, "."]);
  return out;
}

function artifact(version: string): RuntimeArtifact {
  const a = readCatalog(artDir).artifacts.find((x) => x.name === "node" && x.version === version)!;
  return { name: a.name, version: a.version, url: `${server.url}/${a.file}`, sha256: a.sha256, size: a.size, bin: a.bin ?? ["bin"] };
}

function spec(runtime: { name: string; version: string } | undefined, sent?: unknown, error?: string): AgentSpec {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "DevEnvironment",
    metadata: { name: "d", namespace: "default", uid: "u", generation: 1 },
    spec: runtime ? { runtime } : {},
    ports: [],
    heartbeatSeconds: 5,
    artifacts: { runtime: sent, ...(error ? { runtimeError: error } : {}) },
  };
}

function context(root: string, s: AgentSpec, progress: string[] = []): StepContext {
  return {
    spec: s,
    generation: 1,
    env: { controllerUrl: "http://127.0.0.1:1", tokenFile: "/nonexistent", resource: { plural: "devenvironments", namespace: "default", name: "d" }, root, ip: "127.0.0.1", hostname: "d", vmid: 1 },
    logger: silent,
    clock: realClock,
    signal: new AbortController().signal,
    inherited: { PATH: "/usr/bin:/bin" },
    provisioned: { path: [], env: {}, inputs: {}, services: [], notes: [] },
    progress: (m) => progress.push(m),
  };
}

/** The error a fresh step throws for `ctx` (a step that succeeds fails the test). */
async function failure(ctx: StepContext): Promise<Error> {
  try {
    await runtimeStep().run(ctx);
  } catch (e) {
    return e as Error;
  }
  throw new Error("the step succeeded");
}

function newRoot(): string {
  return mkdtempSync(join(work, "root-"));
}

/** Everything under the runtimes directory, for "nothing left behind" checks. */
function tree(root: string): string[] {
  const base = runtimesDir(root);
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true }).map(String).sort();
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "zlh-runtime-"));
  artDir = join(work, "art");
  for (const v of ["1.0.0", "2.0.0", "3.0.0"]) await publishArtifact(artDir, buildRuntime(v), { name: "node", version: v, platform: "linux-x64", now: 0 });
  server = await startArtifactServer({ dir: artDir, host: "127.0.0.1", port: 0, logger: silent });
});
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

describe("runtime step", () => {
  it("installs, upgrades keeping the previous version, rolls back without a download and removes older versions", async () => {
    const root = newRoot();
    const step = runtimeStep();
    const p = runtimePaths(root, "node");
    const progress: string[] = [];
    const out1 = await step.run(context(root, spec({ name: "node", version: "1.0.0" }, artifact("1.0.0")), progress));
    expect(out1).toMatchObject({ path: [join(p.current, "bin")], inputs: { "runtime/node": `1.0.0 sha256:${artifact("1.0.0").sha256}` } });
    expect(progress[0]).toMatch(/^downloading node 1.0.0/);
    expect(readlinkSync(p.current)).toBe("1.0.0");
    const meta = JSON.parse(readFileSync(join(p.version("1.0.0"), ".zlh_metadata.json"), "utf8"));
    expect(meta).toMatchObject({ name: "node", version: "1.0.0", source: artifact("1.0.0").url, sha256: artifact("1.0.0").sha256, size: artifact("1.0.0").size, agentVersion: expect.any(String), installed: expect.any(String) });
    expect(execFileSync(join(p.current, "bin", "node"), { encoding: "utf8" })).toBe("v1.0.0\n");

    await step.run(context(root, spec({ name: "node", version: "2.0.0" }, artifact("2.0.0"))));
    expect([readlinkSync(p.current), readlinkSync(p.previous)]).toEqual(["2.0.0", "1.0.0"]);
    await step.run(context(root, spec({ name: "node", version: "3.0.0" }, artifact("3.0.0"))));
    expect([readlinkSync(p.current), readlinkSync(p.previous)]).toEqual(["3.0.0", "2.0.0"]);
    expect(existsSync(p.version("1.0.0"))).toBe(false);

    // Rollback: 2.0.0 is still on disk, so the step must not download; an unreachable URL proves it.
    const rollbackProgress: string[] = [];
    const back = { ...artifact("2.0.0"), url: "http://127.0.0.1:1/gone" };
    await step.run(context(root, spec({ name: "node", version: "2.0.0" }, back), rollbackProgress));
    expect(rollbackProgress).toEqual([]);
    expect([readlinkSync(p.current), readlinkSync(p.previous)]).toEqual(["2.0.0", "3.0.0"]);
    expect(execFileSync(join(p.current, "bin", "node"), { encoding: "utf8" })).toBe("v2.0.0\n");

    // Dropped from the spec: every runtime goes, the profile puts nothing on PATH.
    await step.run(context(root, spec(undefined)));
    expect(tree(root)).toEqual([]);
    expect(readFileSync(join(root, "etc/profile.d/zlh.sh"), "utf8")).not.toContain("runtimes");
  });

  it("gives login shells, interactive shells and services the same PATH and the same node", async () => {
    const root = newRoot();
    const out = await runtimeStep().run(context(root, spec({ name: "node", version: "1.0.0" }, artifact("1.0.0"))));
    const home = join(root, "home", "dev");
    const env = { HOME: home, PATH: "/usr/bin:/bin", TERM: "dumb" };
    const probe = 'printf "%s|%s" "$(command -v node)" "$PATH"';
    const login = execFileSync("bash", ["--noprofile", "-c", `. "$HOME/.profile"; ${probe}`], { env, encoding: "utf8" });
    const interactive = execFileSync("bash", ["--norc", "-c", `. "$HOME/.bashrc"; ${probe}`], { env, encoding: "utf8" });
    const twice = execFileSync("bash", ["--norc", "-c", `. "$HOME/.bashrc"; . "$HOME/.profile"; ${probe}`], { env, encoding: "utf8" });
    const servicePath = [...(out as { path: string[] }).path, "/usr/bin:/bin"].join(":");
    const service = execFileSync("sh", ["-c", probe], { env: { ...env, PATH: servicePath }, encoding: "utf8" });
    const expected = `${join(runtimePaths(root, "node").current, "bin", "node")}|${servicePath}`;
    expect([login, interactive, twice, service]).toEqual([expected, expected, expected, expected]);
  });

  it("refuses a sha256 mismatch before extracting, names both hashes and leaves nothing behind", async () => {
    const root = newRoot();
    const good = artifact("1.0.0");
    const wrong = { ...good, sha256: "0".repeat(64) };
    const err = await failure(context(root, spec({ name: "node", version: "1.0.0" }, wrong)));
    expect(err).toBeInstanceOf(ProvisioningError);
    expect(err.message).toBe(`runtime node 1.0.0: sha256 mismatch: the catalog says ${"0".repeat(64)}, the download has ${good.sha256}; nothing was installed`);
    expect(tree(root)).toEqual([".downloads"]);
  });

  it("refuses a download of the wrong size and one larger than the catalog says", async () => {
    const root = newRoot();
    const good = artifact("1.0.0");
    const longer = await failure(context(root, spec({ name: "node", version: "1.0.0" }, { ...good, size: good.size + 10 })));
    expect(longer.message).toContain(`size mismatch: the catalog says ${good.size + 10} bytes, the download has ${good.size}`);
    const shorter = await failure(context(root, spec({ name: "node", version: "1.0.0" }, { ...good, size: good.size - 10 })));
    expect(shorter.message).toContain(`download is larger than the catalog's ${good.size - 10} bytes`);
    expect(tree(root)).toEqual([".downloads"]);
  });

  it("resumes a .part left by a killed agent, and throws away a corrupt one", async () => {
    const good = artifact("2.0.0");
    const bytes = readFileSync(join(artDir, readCatalog(artDir).artifacts.find((a) => a.version === "2.0.0")!.file));
    const root = newRoot();
    mkdirSync(join(runtimesDir(root), ".downloads"), { recursive: true });
    writeFileSync(partFile(root, good.sha256), bytes.subarray(0, 100));
    await runtimeStep().run(context(root, spec({ name: "node", version: "2.0.0" }, good)));
    expect(readlinkSync(runtimePaths(root, "node").current)).toBe("2.0.0");
    expect(existsSync(partFile(root, good.sha256))).toBe(false);

    // A prefix that is not the artifact's: the resumed whole fails the hash and is deleted.
    const other = newRoot();
    mkdirSync(join(runtimesDir(other), ".downloads"), { recursive: true });
    writeFileSync(partFile(other, good.sha256), Buffer.alloc(100, 7));
    const err = await failure(context(other, spec({ name: "node", version: "2.0.0" }, good)));
    expect(err.message).toContain("sha256 mismatch");
    expect(existsSync(partFile(other, good.sha256))).toBe(false);
    await runtimeStep().run(context(other, spec({ name: "node", version: "2.0.0" }, good)));
    expect(readlinkSync(runtimePaths(other, "node").current)).toBe("2.0.0");
  });

  it("on restart clears a half-extracted staging directory and a stray link, keeping the active version", async () => {
    const root = newRoot();
    await runtimeStep().run(context(root, spec({ name: "node", version: "1.0.0" }, artifact("1.0.0"))));
    const p = runtimePaths(root, "node");
    mkdirSync(join(p.dir, ".staging-2.0.0-abcd", "bin"), { recursive: true });
    writeFileSync(join(p.dir, ".staging-2.0.0-abcd", "bin", "node"), "half");
    writeFileSync(join(p.dir, ".link-ffff"), "");
    // A new agent process: a new step instance.
    await runtimeStep().run(context(root, spec({ name: "node", version: "1.0.0" }, artifact("1.0.0"))));
    expect(readdirSync(p.dir).sort()).toEqual(["1.0.0", "current"]);
    expect(readlinkSync(p.current)).toBe("1.0.0");
  });

  it("reports the controller's reason when the runtime is not in its catalog, and refuses an unsafe artifact", async () => {
    const root = newRoot();
    const err = await failure(context(root, spec({ name: "node", version: "9" }, undefined, "runtime node has no version \"9\"")));
    expect(err.message).toBe('runtime node 9: runtime node has no version "9"');
    const unsafe = await failure(context(root, spec({ name: "node", version: "1.0.0" }, { ...artifact("1.0.0"), bin: ["../../etc"] })));
    expect(unsafe.message).toBe("the controller sent an invalid runtime artifact: bin");
    expect(tree(root)).toEqual([]);
  });
});
