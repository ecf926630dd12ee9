// The README walkthrough, as a user runs it: embedded server with the default local
// providers, `zlh apply -f examples/`, Running, endpoints answer, `zlh delete --wait`,
// and nothing left: no process, no workload directory, no DNS record, no Traefik file.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { runCli } from "../../controller/src/cli/main.js";
import { runServer, type RunningServer } from "../../controller/src/server-main.js";
import { traefikConfigViolations } from "../../controller/src/providers/routing/traefik-schema.js";
import { captureIO } from "../../controller/test/cli/fixtures.js";
import { pino } from "pino";
import { realClock } from "../../controller/src/engine/clock.js";
import { client, eventually, killAllUnder, processesUnder, workloadDirs } from "./support.js";

const examples = join(import.meta.dirname, "../../examples");

describe("the walkthrough on the embedded server with local providers", () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zlh-e2e-"));
    // Its own vmids: a user's `npm start` may be running the examples (its data directory has its own address block anyway).
    const config = join(dir, "config.yaml");
    writeFileSync(config, "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nvmids: { from: 1000, to: 1099 }\n");
    server = await runServer({ dataDir: join(dir, ".zlh"), listen: "127.0.0.1:0", configPath: config, logger: pino({ level: "info" }, pino.destination(join(dir, "server.log"))) });
  });
  afterAll(async () => {
    await server?.close();
    killAllUnder(dir);
    if (!process.env.ZLH_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  const zlh = async (...args: string[]) => {
    const io = captureIO({ clock: realClock });
    const code = await runCli([...args, "--kubeconfig", server.kubeconfigPath], io);
    return { code, out: io.stdout.join("\n"), err: io.stderr.join("\n") };
  };

  it("applies examples/, reaches Running, serves its endpoint, and deleting removes everything", async () => {
    const applied = await zlh("apply", "-f", examples);
    expect(applied.err).toBe("");
    expect(applied.out).toContain("gameserver.zerolaghub.dev/echo created");
    expect(applied.out).toContain("devenvironment.zerolaghub.dev/node-dev created");

    const api = client(server.kubeconfigPath);
    const running = await eventually("both examples Running", async () => {
      const all = [...(await api.list("gameservers")), ...(await api.list("devenvironments"))];
      return all.length === 2 && all.every((o) => o.status?.phase === "Running") ? all : undefined;
    });
    const echo = running.find((o) => o.kind === "GameServer")!;
    const dev = running.find((o) => o.kind === "DevEnvironment")!;
    expect(dev.status?.endpoints?.[0]?.host).toBe(`dev-${dev.status!.vmid}.zlh.localhost`);
    expect(dev.status?.urls?.codeServer).toMatch(/^http:\/\/127\.[1-9]\d*\.\d+\.\d+:6000\/$/);

    // The game port answers at the endpoint's URL.
    const url = new URL(echo.status!.endpoints![0]!.url);
    const greeting = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(url.port), url.hostname);
      s.once("data", (d) => { resolve(String(d)); s.end(); });
      s.once("error", reject);
    });
    expect(greeting).toBe("welcome to echo\n");

    // Records, routes and workloads exist, carry owner marks, and the routes are valid Traefik v3.
    const data = join(dir, ".zlh");
    const zone = readFileSync(join(data, "dns/records.zone"), "utf8");
    expect(zone).toMatch(/^echo\.zlh\.localhost\. 60 IN A 127\.[1-9]\d*\.\d+\.\d+ ; zerolaghub\.dev\/owner=GameServer\/default\/echo\//m);
    expect(zone).toContain(`dev-${dev.status!.vmid}-8080.zlh.localhost.`);
    const routes = readdirSync(join(data, "traefik")).sort();
    expect(routes).toEqual(["zlh-devenvironment_default_node-dev.yaml", "zlh-gameserver_default_echo.yaml"]);
    for (const f of routes) expect(traefikConfigViolations(parse(readFileSync(join(data, "traefik", f), "utf8")))).toEqual([]);
    expect(workloadDirs(data)).toHaveLength(2);
    expect(existsSync(join(data, "workloads", workloadDirs(data).find((d) => d.includes("node-dev"))!, "home/dev/workspace"))).toBe(true);
    expect(processesUnder(dir).filter((p) => p.agent)).toHaveLength(2);

    // The controller's probes and metrics.
    expect((await fetch(`${server.controllerUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.controllerUrl}/metrics`)).text();
    expect(metrics).toMatch(/^zlh_reconcile_total\{kind="gameservers",result="success"\} [1-9]/m);
    expect(metrics).toMatch(/^zlh_provider_requests_total\{provider="workload\/local",method="create",result="success"\} 2$/m);

    const described = await zlh("describe", "gs", "echo");
    expect(described.out).toMatch(/Ready\s+True/);
    expect(described.out).toContain("WorkloadCreated");

    const deleted = await zlh("delete", "-f", examples, "--wait");
    expect(deleted.code).toBe(0);
    expect(deleted.out).toContain("gameserver.zerolaghub.dev/echo deleted");
    expect(await api.list("gameservers")).toEqual([]);
    expect(await api.list("devenvironments")).toEqual([]);
    expect(processesUnder(dir)).toEqual([]);
    expect(workloadDirs(data)).toEqual([]);
    expect(readdirSync(join(data, "traefik"))).toEqual([]);
    expect(readFileSync(join(data, "dns/records.zone"), "utf8")).not.toMatch(/ IN /);
  });

  it("shows a server that keeps crashing as Error with its reason, and apply --wait fails with it", async () => {
    const dirOf = join(dir, "crashing.yaml");
    writeFileSync(dirOf, `apiVersion: zerolaghub.dev/v1alpha1
kind: GameServer
metadata:
  name: crashing
spec:
  game: generic
  command: ["node", "-e", "console.error('cannot load world'); process.exit(3)"]
  ports: [{ name: game, port: 7000 }]
  restartPolicy: { backoffSeconds: [0], maxAttempts: 1 }
`);
    const applied = await zlh("apply", "-f", dirOf, "--wait", "--timeout", "60s");
    expect(applied.code).toBe(1);
    expect(applied.err).toMatch(/gameserver\.zerolaghub\.dev\/crashing failed: .*code 3/);
    const [gs] = await client(server.kubeconfigPath).list("gameservers");
    expect(gs?.status).toMatchObject({ phase: "Error", agent: { state: "error", restarts: 1 } });
    expect(gs?.status?.provisioningError).toContain("cannot load world");
    const described = await zlh("describe", "gs", "crashing");
    expect(described.out).toMatch(/Warning\s+ServerFailed/);
    const deleted = await zlh("delete", "gs", "crashing", "--wait");
    expect(deleted.code).toBe(0);
    expect(processesUnder(dir)).toEqual([]);
  });
});
