// The Agent wiring in-process, against the real controller-side endpoint.
import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { DevEnvironment, GameServer } from "../../schemas/generated/types.js";
import { startAgentEndpoint, type RunningAgentEndpoint } from "../../controller/src/agent-endpoint/agent-endpoint.js";
import { AgentReportStore } from "../../controller/src/agent-endpoint/agent-report-store.js";
import { mintAgentToken } from "../../controller/src/agent-endpoint/agent-token.js";
import { Agent } from "../src/agent.js";
import type { ProvisioningStep } from "../src/provisioning.js";
import { defaultSteps } from "../src/workload-steps.js";
import type { AgentEnv } from "../src/agent-env.js";
import { realClock } from "../src/clock.js";
import { ControllerClient } from "../src/controller-client.js";
import { ProcessLauncher } from "../src/process-launcher.js";
import { tcpProbe } from "../src/tcp-probe.js";
import { waitFor } from "./wait-for.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function agentFor(env: AgentEnv, token: string, steps?: ProvisioningStep[]): Agent {
  return new Agent({
    ...(steps ? { steps } : {}),
    env,
    api: new ControllerClient(env.controllerUrl, env.resource, token),
    clock: realClock,
    logger: pino({ level: process.env.DEBUG_AGENT ? "debug" : "silent" }),
    launcher: new ProcessLauncher(realClock),
    probe: tcpProbe,
    inherited: { PATH: process.env.PATH },
  });
}

function envFor(root: string, controllerUrl: string, resource: AgentEnv["resource"] = { plural: "devenvironments", namespace: "default", name: "dev1" }): AgentEnv {
  return {
    controllerUrl,
    tokenFile: join(root, "token"),
    resource,
    root,
    ip: "127.0.0.1",
    hostname: "dev-100",
    vmid: 100,
  };
}

describe("Agent", () => {
  it("prepares a DevEnvironment workspace, reports running without claiming code-server, and reports stopped", async () => {
    const root = mkdtempSync(join(tmpdir(), "zlh-agent-dev-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const dev: DevEnvironment = {
      apiVersion: "zerolaghub.dev/v1alpha1",
      kind: "DevEnvironment",
      metadata: { name: "dev1", namespace: "default", uid: "uid-dev", generation: 3 },
      spec: { codeServer: { enabled: true } },
    };
    const states: string[] = [];
    const store = new AgentReportStore({ clock: { now: () => Date.now() } });
    store.subscribe((k) => states.push(store.get(k)!.report.state));
    const secret = randomBytes(32);
    const ep: RunningAgentEndpoint = await startAgentEndpoint({
      listen: "127.0.0.1:0",
      secret,
      lookup: (p, ns, n) => (`${p}/${ns}/${n}` === "devenvironments/default/dev1" ? dev : undefined),
      reports: store,
      clock: { now: () => Date.now() },
      heartbeatSeconds: 30,
    });
    cleanups.push(() => ep.close());

    const agent = agentFor(envFor(root, ep.url), mintAgentToken(secret, { plural: "devenvironments", namespace: "default", name: "dev1", uid: "uid-dev" }));
    await agent.run();
    const running = await waitFor("running", () => store.get("devenvironments/default/dev1")?.report.state === "running" && store.get("devenvironments/default/dev1")!.report);
    expect(running).toMatchObject({ provisioningComplete: true, generation: 3 });
    expect(running.message).toContain("code-server is not installed yet");
    expect(statSync(join(root, "home", "dev", "workspace")).isDirectory()).toBe(true);

    await agent.stop();
    expect(states).toEqual(["installing", "running", "stopping", "stopped"]);
  });

  it("stops promptly while still waiting for an unreachable controller", async () => {
    const root = mkdtempSync(join(tmpdir(), "zlh-agent-unreachable-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    // Nothing listens on port 1 of loopback.
    const agent = agentFor(envFor(root, "http://127.0.0.1:1"), "zlha.x");
    const running = agent.run();
    await agent.stop();
    await running;
    expect(existsSync(join(root, "home"))).toBe(false);
  });

  it("runs a GameServer whose command comes from a provisioning step's PATH, and reports a failing step as provisioningError", async () => {
    const root = mkdtempSync(join(tmpdir(), "zlh-agent-steps-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const gs: GameServer = {
      apiVersion: "zerolaghub.dev/v1alpha1",
      kind: "GameServer",
      metadata: { name: "gs1", namespace: "default", uid: "uid-gs", generation: 1 },
      // Readiness by log line: no port needs to be free for this test.
      spec: { game: "generic", command: ["hello-server"], ports: [{ name: "game", port: 1 }], readiness: { logLine: { pattern: "^ready from" } } },
    };
    const store = new AgentReportStore({ clock: { now: () => Date.now() } });
    const secret = randomBytes(32);
    const ep = await startAgentEndpoint({
      listen: "127.0.0.1:0",
      secret,
      lookup: (p, ns, n) => (`${p}/${ns}/${n}` === "gameservers/default/gs1" ? gs : undefined),
      reports: store,
      clock: { now: () => Date.now() },
      heartbeatSeconds: 30,
    });
    cleanups.push(() => ep.close());
    const token = mintAgentToken(secret, { plural: "gameservers", namespace: "default", name: "gs1", uid: "uid-gs" });
    const env = envFor(root, ep.url, { plural: "gameservers", namespace: "default", name: "gs1" });
    const report = () => store.get("gameservers/default/gs1")?.report;

    // An installer step: puts a "runtime" on PATH, as a runtime installer would.
    const bin = join(root, "opt", "zlh", "runtimes", "fake", "bin");
    const install: ProvisioningStep = {
      name: "runtime",
      run: (ctx) => {
        mkdirSync(bin, { recursive: true });
        writeFileSync(join(bin, "hello-server"), `#!/bin/sh\necho "ready from $RUNTIME_NAME"\nexec sleep 600\n`);
        chmodSync(join(bin, "hello-server"), 0o755);
        ctx.progress("installed fake runtime");
        return { path: [bin], env: { RUNTIME_NAME: "fake" }, inputs: { "runtime/fake": "1" } };
      },
    };
    const agent = agentFor(env, token, defaultSteps([install]));
    cleanups.push(() => agent.stop());
    await agent.run();
    const running = await waitFor("running", () => report()?.state === "running" && report(), 15_000, () => JSON.stringify(report()) + (existsSync(join(root, "var/log/server.log")) ? readFileSync(join(root, "var/log/server.log"), "utf8") : "no log"));
    expect(running).toMatchObject({ provisioningComplete: true, generation: 1, services: [{ name: "server", state: "running", pid: running.pid }] });
    expect(readFileSync(join(root, "var", "log", "server.log"), "utf8")).toContain("ready from fake");
    await agent.stop();
    expect(report()?.state).toBe("stopped");

    const broken: ProvisioningStep = { name: "runtime", run: () => Promise.reject(new Error("sha256 mismatch")) };
    const failing = agentFor(env, token, defaultSteps([broken]));
    cleanups.push(() => failing.stop());
    await failing.run();
    const failed = await waitFor("error", () => report()?.state === "error" && report());
    expect(failed.provisioningError).toBe("preparing the workload failed: runtime: sha256 mismatch");
    expect(failed.pid).toBeUndefined();
    expect(existsSync(join(root, "run", "server.pid"))).toBe(false);
  });
});
