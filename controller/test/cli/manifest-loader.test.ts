import { execFileSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatManifestError } from "../../src/cli/manifest-error.js";
import { formatSkipped, loadManifests, type LoadResult } from "../../src/cli/manifest-loader.js";
import { MAX_MANIFEST_BYTES } from "../../src/cli/manifest-files.js";
import { devEnvYaml, gameServerYaml, tempDir } from "./fixtures.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

function load(paths: string[], opts: { recursive?: boolean; validate?: boolean } = {}): LoadResult {
  return loadManifests(paths, { defaultNamespace: "default", ...opts });
}

function errorsOf(r: LoadResult): string[] {
  if (r.ok) throw new Error(`expected errors, got ${r.manifests.length} manifests`);
  return r.errors.map(formatManifestError);
}

describe("loadManifests", () => {
  it("loads every document of a multi-document file, filling in the default namespace", () => {
    const f = tmp.write("all.yaml", `${gameServerYaml("mc1")}---\n${devEnvYaml("dev1")}---\n`);
    const r = load([f]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.manifests.map((m) => [m.kind, m.name, m.namespace, m.document, m.line])).toEqual([
      ["GameServer", "mc1", "default", 1, 1],
      ["DevEnvironment", "dev1", "default", 2, 12],
    ]);
    expect(r.manifests[0]!.object.metadata.namespace).toBe("default");
  });

  it("lists several errors of one document in file order", () => {
    const f = tmp.write("bad.yaml", "apiVersion: zerolaghub.dev/v1alpha1\nkind: GameServer\nmetadata:\n  name: Bad_Name\nspec:\n  game: generic\n  command: [x]\n  ports: [{name: game, port: 70000}]\n  replicas: 2\n");
    expect(errorsOf(load([f])).map((e) => e.split(" ")[0])).toEqual([`${f}:4:3`, `${f}:8:24`, `${f}:9:3`]);
  });

  it("keeps a namespace written in the document", () => {
    const f = tmp.write("ns.yaml", gameServerYaml("mc1").replace("  name: mc1", "  name: mc1\n  namespace: team-a"));
    const r = load([f]);
    expect(r.ok && r.manifests[0]!.namespace).toBe("team-a");
  });

  it("reports a YAML syntax error as file:line:col", () => {
    const f = tmp.write("bad.yaml", "apiVersion: zerolaghub.dev/v1alpha1\nkind: GameServer\nmetadata: {name: [mc1\n");
    const [first] = errorsOf(load([f]));
    expect(first).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+ \\(document 1\\): `));
    expect(first).not.toContain("\n");
  });

  it("reports a duplicate YAML key with its line and column", () => {
    const f = tmp.write("dup.yaml", "apiVersion: zerolaghub.dev/v1alpha1\nkind: GameServer\nkind: GameServer\n");
    expect(errorsOf(load([f]))[0]).toBe(`${f}:3:1 (document 1): Map keys must be unique`);
  });

  it("points a schema error at the line of the offending field, with document index and field path", () => {
    const f = tmp.write("two.yaml", `${gameServerYaml("ok")}---\n${gameServerYaml("mc2").replace("port: 25565", "port: 70000")}`);
    const errors = errorsOf(load([f]));
    expect(errors).toEqual([`${f}:21:7 (document 2, GameServer "mc2"): .spec.ports[0].port: must be <= 65535`]);
  });

  it("rejects an unknown field at the line that names it", () => {
    const f = tmp.write("unknown.yaml", gameServerYaml("mc1", "  colour: blue\n"));
    expect(errorsOf(load([f]))).toEqual([`${f}:11:3 (document 1, GameServer "mc1"): .spec.colour: unknown field`]);
  });

  it("points a missing required field at its parent", () => {
    const f = tmp.write("missing.yaml", gameServerYaml("mc1").replace('  command: ["node", "server.js"]\n', ""));
    expect(errorsOf(load([f]))).toEqual([`${f}:5:1 (document 1, GameServer "mc1"): .spec.command: required field is missing`]);
  });

  it("rejects a document of another apiVersion or kind with its file and line", () => {
    const f = tmp.write("pod.yaml", `${gameServerYaml("mc1")}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n`);
    expect(errorsOf(load([f]))).toEqual([`${f}:12 (document 2): unsupported apiVersion/kind "v1"/"Pod": expected zerolaghub.dev/v1alpha1 GameServer or DevEnvironment`]);
  });

  it("rejects a document that is not a mapping", () => {
    const f = tmp.write("list.yaml", "- a\n- b\n");
    expect(errorsOf(load([f]))[0]).toContain("unsupported apiVersion/kind a list");
  });

  it("rejects duplicate ports at the second port's line", () => {
    const f = tmp.write("ports.yaml", gameServerYaml("mc1", "    - name: other\n      port: 25565\n"));
    expect(errorsOf(load([f]))).toEqual([`${f}:12:7 (document 1, GameServer "mc1"): .spec.ports[1].port: duplicate port "25565/tcp" (also at index 0)`]);
  });

  it.each(["My_Server", "../x", "a b"])("rejects the non-DNS name %j", (name) => {
    const f = tmp.write("name.yaml", gameServerYaml(JSON.stringify(name)));
    const errors = errorsOf(load([f]));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`${f}:4:3 (document 1, GameServer ${JSON.stringify(name)}): .metadata.name: must be a DNS-1123 label`);
  });

  it.each(["`id`", "my host", "evil.com"])("rejects the hostname %j before it can reach a route or DNS name", (hostname) => {
    const f = tmp.write("host.yaml", gameServerYaml("mc1", `  hostname: ${JSON.stringify(hostname)}\n`));
    expect(errorsOf(load([f]))).toEqual([expect.stringContaining(`${f}:11:3 (document 1, GameServer "mc1"): .spec.hostname: must be a DNS-1123 label`)]);
  });

  it("rejects a file over 1 MiB without parsing it", () => {
    // Invalid YAML throughout: had it been parsed, the error would be a syntax error instead.
    const f = tmp.write("huge.yaml", Buffer.alloc(5 * 1024 * 1024, "{["));
    expect(errorsOf(load([f]))).toEqual([`${f}: file is 5.0 MiB, over the 1 MiB limit for a manifest`]);
  });

  it("refuses a link to /dev/zero at once instead of reading it without end", () => {
    const f = join(tmp.dir, "zero.yaml");
    symlinkSync("/dev/zero", f);
    expect(errorsOf(load([f]))).toEqual([`${f}: a device: only regular files are read as manifests`]);
  });

  it("refuses a FIFO without blocking on it (no writer ever opens it)", () => {
    const f = join(tmp.dir, "pipe.yaml");
    execFileSync("mkfifo", [f]);
    expect(errorsOf(load([f]))).toEqual([`${f}: a FIFO: only regular files are read as manifests`]);
  });

  it("skips ControllerConfig documents with a note, and loads the rest", () => {
    const dir = join(tmp.dir, "examples");
    tmp.write("examples/config/local.yaml", "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nworkers: 2\n");
    tmp.write("examples/gs.yaml", gameServerYaml("mc1"));
    const r = load([dir], { recursive: true, validate: true });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.manifests.map((m) => m.name)).toEqual(["mc1"]);
    expect(r.skipped.map(formatSkipped)).toEqual([
      `note: ${join(dir, "config/local.yaml")}:1 (document 1): ControllerConfig skipped: it configures \`zlh server --config\`, it is not a resource to apply`,
    ]);
  });

  it("loads the repository's examples/ directory with -R", () => {
    const r = load([join(__dirname, "../../../examples")], { recursive: true, validate: true });
    expect(r.ok && r.manifests.length).toBeGreaterThan(0);
    expect(r.ok && r.skipped.length).toBe(1);
  });

  it("accepts a file of exactly the size limit", () => {
    const doc = gameServerYaml("mc1");
    const f = tmp.write("edge.yaml", doc + "#".repeat(MAX_MANIFEST_BYTES - doc.length));
    expect(load([f]).ok).toBe(true);
  });

  it("rejects an alias bomb instead of expanding it", () => {
    let bomb = 'apiVersion: zerolaghub.dev/v1alpha1\nkind: GameServer\nmetadata: {name: bomb}\na0: &a0 ["x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 1; i < 10; i++) bomb += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]\n`;
    const f = tmp.write("bomb.yaml", bomb);
    expect(errorsOf(load([f]))).toEqual([`${f}:1:1 (document 1): YAML aliases expand too far (limit 100): refusing a possible alias bomb`]);
  });

  it("returns no valid documents when one of several is bad, and lists every error", () => {
    const f = tmp.write("mixed.yaml", [gameServerYaml("a"), gameServerYaml("b").replace("generic", "chess"), devEnvYaml("c"), gameServerYaml("D")].join("---\n"));
    const r = load([f]);
    expect(r.ok).toBe(false);
    expect("manifests" in r).toBe(false);
    expect(errorsOf(r).map((e) => e.replace(/^[^ ]+ /, ""))).toEqual([
      '(document 2, GameServer "b"): .spec.game: must be one of "generic", "minecraft"',
      '(document 4, GameServer "D"): .metadata.name: must be a DNS-1123 label (lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters)',
    ]);
  });

  it("rejects the same kind, namespace and name twice across files", () => {
    const a = tmp.write("a.yaml", gameServerYaml("mc1"));
    const b = tmp.write("b.yaml", `${devEnvYaml("mc1")}---\n${gameServerYaml("mc1")}`);
    expect(errorsOf(load([a, b]))).toEqual([`${b}:10:1 (document 2, GameServer "mc1"): duplicate of document 1 in ${a}:1 (same kind, namespace "default" and name)`]);
  });

  it("reads a directory's manifests sorted by name, skipping other files and subdirectories unless recursive", () => {
    tmp.write("d/b.yml", gameServerYaml("b"));
    tmp.write("d/a.json", JSON.stringify({ apiVersion: "zerolaghub.dev/v1alpha1", kind: "DevEnvironment", metadata: { name: "a" }, spec: {} }));
    tmp.write("d/notes.txt", "not yaml");
    tmp.write("d/sub/c.yaml", gameServerYaml("c"));
    const flat = load([`${tmp.dir}/d`]);
    expect(flat.ok && flat.manifests.map((m) => m.name)).toEqual(["a", "b"]);
    const deep = load([`${tmp.dir}/d`], { recursive: true });
    expect(deep.ok && deep.manifests.map((m) => m.name)).toEqual(["a", "b", "c"]);
  });

  it("reports JSON errors with positions too", () => {
    const f = tmp.write("bad.json", '{"apiVersion": "zerolaghub.dev/v1alpha1", "kind": "GameServer",\n "metadata": {"name": "x"}, "spec": {"game": 7, "command": ["a"], "ports": [{"name": "g", "port": 1}]}}');
    expect(errorsOf(load([f]))).toContain(`${f}:2:38 (document 1, GameServer "x"): .spec.game: must be string`);
  });

  it("names a missing path and an unsupported extension", () => {
    const txt = tmp.write("x.txt", "a: 1");
    expect(errorsOf(load([`${tmp.dir}/nope.yaml`, txt]))).toEqual([
      `${tmp.dir}/nope.yaml: no such file or directory`,
      `${txt}: unsupported file type (expected .yaml, .yml or .json)`,
    ]);
  });

  it("fails when the inputs hold no documents at all", () => {
    const f = tmp.write("empty.yaml", "# nothing\n---\n");
    expect(errorsOf(load([f]))).toEqual([`${f}: no GameServer or DevEnvironment documents found`]);
  });

  it("without validation (delete -f) accepts a document whose spec no longer validates", () => {
    const f = tmp.write("old.yaml", gameServerYaml("mc1", "  removedField: 1\n"));
    const r = load([f], { validate: false });
    expect(r.ok && r.manifests.map((m) => m.name)).toEqual(["mc1"]);
  });
});
