// The CLI's behaviour when there is no server to talk to, through runCli and the real launcher.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { realClock } from "../../src/engine/clock.js";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIO, gameServerYaml, tempDir } from "./fixtures.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../..");
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

interface KubeconfigDoc {
  "current-context": string;
  contexts: { name: string; context: { cluster: string } }[];
  clusters: { name: string; cluster: { server: string } }[];
}

/** A port on 127.0.0.1 that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function kubeconfigFor(server: string): string {
  return tmp.write(
    "kubeconfig",
    `apiVersion: v1
kind: Config
clusters: [{name: zlh, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: secret-token}}]
contexts: [{name: zlh, context: {cluster: zlh, user: admin, namespace: team-a}}]
current-context: zlh
`,
  );
}

describe("zlh without a server", () => {
  it("says in one line where it looked for a kubeconfig and how to start a server", async () => {
    const io = captureIO();
    const code = await runCli(["get", "gs", "--data-dir", join(tmp.dir, "nowhere")], io);
    expect(code).toBe(1);
    expect(io.stderr).toEqual([`error: no zlh server at ${join(tmp.dir, "nowhere", "kubeconfig")} (no kubeconfig there): start one with \`npm start\` (or \`zlh server\`)`]);
  });

  it("uses $ZLH_KUBECONFIG when no --kubeconfig is given", async () => {
    const io = captureIO({ env: { ZLH_KUBECONFIG: join(tmp.dir, "from-env") } });
    expect(await runCli(["describe", "gs", "mc1"], io)).toBe(1);
    expect(io.stderr[0]).toContain(`no zlh server at ${join(tmp.dir, "from-env")} (no kubeconfig there)`);
  });

  it("names the server URL when nothing listens there", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const io = captureIO();
    const code = await runCli(["get", "all", "--kubeconfig", kubeconfigFor(url)], io);
    expect(code).toBe(1);
    expect(io.stderr).toEqual([`error: no zlh server at ${url}: start one with \`npm start\` (or \`zlh server\`)`]);
  });

  it("validates manifests before looking for a server, and applies nothing when one is bad", async () => {
    const f = tmp.write("bad.yaml", gameServerYaml("Bad_Name"));
    const io = captureIO();
    const code = await runCli(["apply", "-f", f, "--data-dir", join(tmp.dir, "nowhere")], io);
    expect(code).toBe(1);
    expect(io.stderr).toEqual([expect.stringMatching(/bad\.yaml:4:3 \(document 1, GameServer "Bad_Name"\): \.metadata\.name: must be a DNS-1123 label/), "nothing applied: 1 error"]);
    expect(io.stdout).toEqual([]);
  });

  it("rejects an unknown kind and an unknown output format", async () => {
    const io = captureIO();
    expect(await runCli(["get", "pods", "--kubeconfig", kubeconfigFor("http://127.0.0.1:1")], io)).toBe(1);
    expect(io.stderr[0]).toBe('error: unknown resource type "pods": use gameserver(s), gs, devenvironment(s), dev or all');
    const io2 = captureIO();
    expect(await runCli(["get", "gs", "-o", "xml"], io2)).toBe(1);
    expect(io2.stderr.join("\n")).toContain("Allowed choices are wide, yaml, json, name");
  });

  it("rejects a bad --timeout before doing anything", async () => {
    const f = tmp.write("ok.yaml", gameServerYaml("mc1"));
    const io = captureIO();
    expect(await runCli(["apply", "-f", f, "--wait", "--timeout", "soon"], io)).toBe(1);
    expect(io.stderr).toEqual(['error: --timeout: "soon" is not a duration (examples: 30s, 5m, 1h30m)']);
  });

  it("prints help with exit 0", async () => {
    const io = captureIO();
    expect(await runCli(["--help"], io)).toBe(0);
    expect(io.stdout.join("\n")).toMatch(/Usage: zlh .*\n[\s\S]*apply[\s\S]*describe/);
  });

  it("the launcher runs the TypeScript CLI and exits 1 with one line and no stack trace", () => {
    const r = spawnSync(process.execPath, [join(repo, "bin/zlh.mjs"), "get", "gs", "--kubeconfig", join(tmp.dir, "missing")], { encoding: "utf8", cwd: tmp.dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: no zlh server at ${join(tmp.dir, "missing")} (no kubeconfig there): start one with \`npm start\` (or \`zlh server\`)\n`);
    expect(r.stdout).toBe("");
  });
});

describe("zlh writing into a closed pipe (`| head`)", () => {
  it("stops quietly, with no EPIPE stack", async () => {
    const child = spawn(process.execPath, [join(repo, "bin/zlh.mjs"), "--help"], { stdio: ["ignore", "pipe", "pipe"], cwd: tmp.dir });
    // Closed before the child has started, so its first write meets a pipe with no reader.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});

describe("zlh server", () => {
  it("says in one line that the address is taken, and exits 1", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      const io = captureIO();
      const code = await runCli(["server", "--data-dir", join(tmp.dir, "data"), "--listen", `127.0.0.1:${port}`, "--log-level", "silent"], io);
      expect(code).toBe(1);
      expect(io.stderr.join("\n")).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
      // Nothing half-made is left for the next start to mistake for a server's state.
      expect(existsSync(join(tmp.dir, "data"))).toBe(false);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it("prints the https URL the kubeconfig's current context uses", async () => {
    const io = captureIO({ clock: realClock });
    const running = runCli(["server", "--data-dir", join(tmp.dir, "data"), "--listen", "127.0.0.1:0", "--log-level", "silent"], io);
    const until = Date.now() + 60_000;
    while (io.stderr.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    io.abort();
    expect(await running).toBe(0);
    const m = /^zlh server at (https:\/\/127\.0\.0\.1:\d+) \(kubeconfig /.exec(io.stderr[0] ?? "");
    expect(m, io.stderr.join("\n")).not.toBeNull();
    const kc = parse(readFileSync(join(tmp.dir, "data", "kubeconfig"), "utf8")) as KubeconfigDoc;
    const context = kc.contexts.find((c) => c.name === kc["current-context"])!.context;
    expect(kc.clusters.find((c) => c.name === context.cluster)!.cluster.server).toBe(m![1]);
  });

  it("names the config file and field when the config is invalid", async () => {
    const config = tmp.write("config.yaml", "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nworkers: 0\n");
    const io = captureIO();
    const code = await runCli(["server", "--data-dir", join(tmp.dir, "data"), "--listen", "127.0.0.1:0", "--config", config, "--log-level", "silent"], io);
    expect(code).toBe(1);
    expect(io.stderr.join("\n")).toContain(`${config}:3:1: .workers: must be >= 1`);
  });
});
