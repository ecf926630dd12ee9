// The real agent process against the real controller-side endpoint, running a real server.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GameServer } from "../../schemas/generated/types.js";
import { startAgentEndpoint, type RunningAgentEndpoint } from "../../controller/src/agent-endpoint/agent-endpoint.js";
import { AgentReportStore } from "../../controller/src/agent-endpoint/agent-report-store.js";
import { mintAgentToken } from "../../controller/src/agent-endpoint/agent-token.js";
import { isAlive, waitFor } from "./wait-for.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const KEY = "gameservers/default/e2e";
// No error handler on its sockets: a probe that resets the connection kills it (tcp-probe.ts).
const SERVER = "require('net').createServer(s=>s.end('hi')).listen(+process.env.PORT, process.env.HOST, ()=>console.log('listening gen', process.env.GEN))";
// The same server surviving a reset: when an agent is SIGKILLed while its readiness probe's
// socket is still open, the kernel resets that connection, which no agent can prevent.
const RESET_TOLERANT_SERVER = SERVER.replace("s=>s.end('hi')", "s=>{s.on('error',()=>{});s.end('hi')}");

// The server binds an address of its own, as in a workload: on the shared 127.0.0.1 another
// test could take the "free" port meanwhile, and the readiness probe would reach that one.
const IP = `127.66.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, IP, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    const s = connect({ host: IP, port });
    s.on("data", (d) => (data += d));
    s.on("end", () => resolve(data));
    s.on("error", reject);
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("agent end to end", () => {
  let root: string;
  let endpoint: RunningAgentEndpoint;
  let store: AgentReportStore;
  let resource: GameServer;
  let states: string[];
  let port: number;
  const agents: ChildProcess[] = [];
  const serverPids = new Set<number>();

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "zlh-agent-e2e-"));
    port = await freePort();
    resource = {
      apiVersion: "zerolaghub.dev/v1alpha1",
      kind: "GameServer",
      metadata: { name: "e2e", namespace: "default", uid: "uid-e2e", generation: 1 },
      spec: {
        game: "generic",
        command: [process.execPath, "-e", SERVER],
        env: { GEN: "1" },
        ports: [{ name: "game", port }],
        shutdown: { graceSeconds: 5 },
      },
    };
    states = [];
    store = new AgentReportStore({ clock: { now: () => Date.now() } });
    store.subscribe((k) => {
      const r = store.get(k)!.report;
      states.push(r.state);
      if (r.pid) serverPids.add(r.pid);
    });
    const secret = randomBytes(32);
    endpoint = await startAgentEndpoint({
      listen: "127.0.0.1:0",
      secret,
      lookup: (plural, ns, name) => (`${plural}/${ns}/${name}` === KEY ? resource : undefined),
      reports: store,
      clock: { now: () => Date.now() },
      heartbeatSeconds: 1,
    });
    writeFileSync(join(root, "token"), mintAgentToken(secret, { plural: "gameservers", namespace: "default", name: "e2e", uid: "uid-e2e" }), { mode: 0o600 });
  });

  afterEach(async (ctx) => {
    // Before cleanup, so that the agents' logs and the server's log are still there.
    if (ctx.task.result?.state === "fail") process.stderr.write(`agent e2e context:\n${context()}\n`);
    for (const a of agents.splice(0)) if (a.exitCode === null && a.signalCode === null) a.kill("SIGKILL");
    for (const pid of serverPids) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    serverPids.clear();
    await endpoint.close();
    rmSync(root, { recursive: true, force: true });
  });

  function startAgent(): ChildProcess {
    const child = spawn(process.execPath, ["--import", "tsx", "agent/src/main.ts"], {
      cwd: repo,
      env: {
        PATH: process.env.PATH,
        ZLH_CONTROLLER_URL: endpoint.url,
        ZLH_TOKEN_FILE: join(root, "token"),
        ZLH_RESOURCE: KEY,
        ZLH_ROOT: root,
        ZLH_IP: IP,
        ZLH_HOSTNAME: "e2e",
        ZLH_VMID: "100",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    Object.defineProperty(child, "log", { get: () => stderr });
    agents.push(child);
    return child;
  }

  const report = () => store.get(KEY)?.report;
  // What a failing wait prints: the reports seen, the agents' logs and the server's log.
  const context = () => {
    let serverLog = "";
    try {
      serverLog = readFileSync(join(root, "var", "log", "server.log"), "utf8");
    } catch {
      serverLog = "(none)";
    }
    return `states: ${states.join(",")}\nlast report: ${JSON.stringify(report())}\nagent logs:\n${agents.map((a) => (a as unknown as { log: string }).log).join("\n---\n")}\nserver.log:\n${serverLog}`;
  };
  const collapse = (xs: string[]) => xs.filter((x, i) => x !== xs[i - 1]);

  it("runs the server through installing, starting, running, follows a spec change and stops on SIGTERM", async () => {
    const agent = startAgent();
    const running = await waitFor("running", () => report()?.state === "running" && report(), 15_000, context);
    expect(collapse(states)).toEqual(["installing", "starting", "running"]);
    expect(running).toMatchObject({ provisioningComplete: true, generation: 1, restarts: 0, version: "0.1.0" });
    const pid = running.pid!;
    expect(isAlive(pid)).toBe(true);
    expect(await greeting(port)).toBe("hi");
    expect(JSON.parse(readFileSync(join(root, "run", "server.pid"), "utf8"))).toMatchObject({ pid, startTime: expect.any(String) });
    expect(readFileSync(join(root, "var", "log", "server.log"), "utf8")).toContain("listening gen 1");
    expect((agent as unknown as { log: string }).log).not.toContain(readFileSync(join(root, "token"), "utf8"));

    // A spec change: the next report's answer carries generation 2 and the agent restarts the server with it.
    resource = { ...resource, metadata: { ...resource.metadata, generation: 2 }, spec: { ...resource.spec, env: { GEN: "2" } } };
    const second = await waitFor("generation 2 running", () => report()?.state === "running" && report()?.generation === 2 && report(), 15_000, context);
    expect(second.pid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    expect(readFileSync(join(root, "var", "log", "server.log"), "utf8")).toContain("listening gen 2");

    agent.kill("SIGTERM");
    expect(await exitOf(agent)).toBe(0);
    expect(report()?.state).toBe("stopped");
    expect(collapse(states).slice(-2)).toEqual(["stopping", "stopped"]);
    expect(isAlive(second.pid!)).toBe(false);
    expect(existsSync(join(root, "run", "server.pid"))).toBe(false);
  }, 30_000);

  it("a restarted agent reattaches to the live server instead of starting a second one", async () => {
    resource = { ...resource, spec: { ...resource.spec, command: [process.execPath, "-e", RESET_TOLERANT_SERVER] } };
    const first = startAgent();
    const pid = (await waitFor("running", () => report()?.state === "running" && report(), 15_000, context)).pid!;
    first.kill("SIGKILL");
    await exitOf(first);
    expect(isAlive(pid)).toBe(true);

    states.length = 0;
    const second = startAgent();
    await waitFor("second agent reports", () => states.includes("installing"));
    const again = await waitFor("running again", () => report()?.state === "running" && report(), 15_000, context);
    expect(again.pid).toBe(pid);
    expect(again.restarts).toBe(0);
    expect(readFileSync(join(root, "var", "log", "server.log"), "utf8").match(/listening gen/g)).toHaveLength(1);

    second.kill("SIGTERM");
    expect(await exitOf(second)).toBe(0);
    expect(report()?.state).toBe("stopped");
    expect(isAlive(pid)).toBe(false);
  }, 30_000);
});
