// The runtime catalog through the embedded server, as `npm start` runs it: the running Node
// is published as runtime node, the catalog and validation endpoints answer, an unknown
// runtime is refused at apply through the CLI, the raw API and kubectl (a 422, never a 5xx),
// and a known one is installed by the agent, upgraded and rolled back by spec changes.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../controller/src/cli/main.js";
import { realClock } from "../../controller/src/engine/clock.js";
import { runServer, type RunningServer } from "../../controller/src/server-main.js";
import { captureIO } from "../../controller/test/cli/fixtures.js";
import { client, eventually, killAllUnder, workloadDirs } from "./support.js";

const exact = process.versions.node;
const major = exact.split(".")[0]!;

const devEnv = (name: string, version: string) => `apiVersion: zerolaghub.dev/v1alpha1
kind: DevEnvironment
metadata:
  name: ${name}
spec:
  runtime: {name: node, version: "${version}"}
  codeServer: {enabled: false}
`;

describe("the runtime catalog on the embedded server", () => {
  let dir: string;
  let server: RunningServer;
  let token: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zlh-catalog-e2e-"));
    const config = join(dir, "config.yaml");
    writeFileSync(config, "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nvmids: { from: 1200, to: 1299 }\n");
    server = await runServer({ dataDir: join(dir, ".zlh"), listen: "127.0.0.1:0", configPath: config, logger: pino({ level: "info" }, pino.destination(join(dir, "server.log"))) });
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    token = kc.getCurrentUser()!.token!;
  });
  afterAll(async () => {
    await server?.close();
    killAllUnder(dir);
    if (!process.env.ZLH_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  const zlh = async (...args: string[]) => {
    const io = captureIO({ clock: realClock });
    const code = await runCli(args, io);
    return { code, out: io.stdout.join("\n"), err: io.stderr.join("\n") };
  };
  const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });

  it("publishes the running Node and lists it with `zlh catalog` and the catalog endpoint", async () => {
    expect(server.artifactsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const listed = await zlh("catalog", "--data-dir", join(dir, ".zlh"));
    expect(listed.code).toBe(0);
    const rows = listed.out.split("\n").slice(1).map((l) => l.split(/\s+/).slice(0, 4).join(" "));
    expect(rows).toEqual([`node ${exact} stable ${process.platform}-${process.arch}`, `node ${major} stable ${process.platform}-${process.arch}`]);
    const res = await api("/catalog/v1/runtimes");
    expect(res.status).toBe(200);
    expect((await res.json()).runtimes).toEqual([expect.objectContaining({ name: "node", kind: "runtime", versions: expect.arrayContaining([expect.objectContaining({ version: exact, channel: "stable" })]) })]);
    expect((await fetch(`${server.url}/catalog/v1/runtimes`)).status).toBe(401);
  });

  it("answers runtime validation with the reason", async () => {
    expect(await (await api(`/catalog/v1/runtimes/validate?name=node&version=${major}`)).json()).toEqual({ name: "node", version: major, installable: true });
    const no = await (await api("/catalog/v1/runtimes/validate?name=node&version=9.9.9")).json();
    expect(no).toEqual({ name: "node", version: "9.9.9", installable: false, reason: expect.stringContaining(`runtime node has no version "9.9.9"`) });
    expect((await api("/catalog/v1/runtimes/validate?name=node")).status).toBe(400);
  });

  it("refuses an unknown runtime or version at apply through the CLI, the raw API and kubectl", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, devEnv("bad-rt", "9.9.9"));
    const cli = await zlh("apply", "-f", file, "--kubeconfig", server.kubeconfigPath);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain(`runtime node has no version "9.9.9"`);

    const raw = await api("/apis/zerolaghub.dev/v1alpha1/namespaces/default/devenvironments", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ apiVersion: "zerolaghub.dev/v1alpha1", kind: "DevEnvironment", metadata: { name: "bad-rt" }, spec: { runtime: { name: "python", version: "3" } } }),
    });
    expect(raw.status).toBe(422);
    const status = await raw.json();
    expect(status.details.causes).toEqual([expect.objectContaining({ field: ".spec.runtime", message: expect.stringContaining(`runtime "python" is not in the catalog (available: node)`) })]);

    const kubectl = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile("kubectl", ["--kubeconfig", server.kubeconfigPath, "--cache-dir", join(dir, "kcache"), "apply", "-f", file], { timeout: 30_000 }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr })),
    );
    expect(kubectl.code).toBe(1);
    expect(kubectl.stderr).toContain(`runtime node has no version`);
    expect(await client(server.kubeconfigPath).list("devenvironments")).toEqual([]);
  });

  it("installs the runtime in the workload, upgrades and rolls back by spec changes, with node on the profile's PATH", async () => {
    const file = join(dir, "dev.yaml");
    writeFileSync(file, devEnv("rt-dev", major));
    expect((await zlh("apply", "-f", file, "--kubeconfig", server.kubeconfigPath)).code).toBe(0);
    const data = join(dir, ".zlh");
    const root = await eventually("the workload directory", () => workloadDirs(data).map((d) => join(data, "workloads", d))[0]);
    const rt = join(root, "opt/zlh/runtimes/node");
    const current = () => (existsSync(join(rt, "current")) ? readlinkSync(join(rt, "current")) : undefined);
    await eventually("node installed and Running", async () => {
      const [o] = await client(server.kubeconfigPath).list("devenvironments");
      return current() === major && o?.status?.phase === "Running" ? o : undefined;
    });
    const meta = JSON.parse(readFileSync(join(rt, major, ".zlh_metadata.json"), "utf8"));
    expect(meta).toMatchObject({ name: "node", version: major, source: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f]{64}\//), size: expect.any(Number) });
    const viaProfile = execFileSync("bash", ["--noprofile", "--norc", "-c", `. "$HOME/.profile"; command -v node; node --version`], { env: { HOME: join(root, "home/dev"), PATH: "/usr/bin:/bin" }, encoding: "utf8" });
    expect(viaProfile).toBe(`${join(rt, "current/bin/node")}\nv${exact}\n`);

    writeFileSync(file, devEnv("rt-dev", exact));
    expect((await zlh("apply", "-f", file, "--kubeconfig", server.kubeconfigPath)).code).toBe(0);
    await eventually("upgraded", () => (current() === exact ? true : undefined));
    expect(readlinkSync(join(rt, "previous"))).toBe(major);

    writeFileSync(file, devEnv("rt-dev", major));
    expect((await zlh("apply", "-f", file, "--kubeconfig", server.kubeconfigPath)).code).toBe(0);
    await eventually("rolled back", () => (current() === major ? true : undefined));
    expect(readlinkSync(join(rt, "previous"))).toBe(exact);
    expect((await zlh("delete", "dev", "rt-dev", "--wait", "--kubeconfig", server.kubeconfigPath)).code).toBe(0);
  }, 240_000);
});
