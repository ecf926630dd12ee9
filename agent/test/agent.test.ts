// The Agent wiring in-process, against the real controller-side endpoint.
import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { DevEnvironment } from "../../schemas/generated/types.js";
import { startAgentEndpoint, type RunningAgentEndpoint } from "../../controller/src/agent-endpoint/agent-endpoint.js";
import { AgentReportStore } from "../../controller/src/agent-endpoint/agent-report-store.js";
import { mintAgentToken } from "../../controller/src/agent-endpoint/agent-token.js";
import { Agent } from "../src/agent.js";
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

function agentFor(env: AgentEnv, token: string): Agent {
  return new Agent({
    env,
    api: new ControllerClient(env.controllerUrl, env.resource, token),
    clock: realClock,
    logger: pino({ level: "silent" }),
    launcher: new ProcessLauncher(realClock),
    probe: tcpProbe,
    inherited: { PATH: process.env.PATH },
  });
}

function envFor(root: string, controllerUrl: string): AgentEnv {
  return {
    controllerUrl,
    tokenFile: join(root, "token"),
    resource: { plural: "devenvironments", namespace: "default", name: "dev1" },
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
});
