import { describe, expect, it } from "vitest";
import { pino } from "pino";
import type { AgentEnv } from "../src/agent-env.js";
import type { AgentSpec } from "../src/controller-client.js";
import { ProvisioningError, runSteps, type ProvisioningStep } from "../src/provisioning.js";
import { planServer, SERVER_SERVICE } from "../src/server-plan.js";
import { defaultSteps } from "../src/workload-steps.js";
import { FakeClock } from "./fake-clock.js";

const env: AgentEnv = {
  controllerUrl: "http://127.0.0.1:1",
  tokenFile: "/t",
  resource: { plural: "gameservers", namespace: "default", name: "mc" },
  root: "/w/mc",
  ip: "127.0.0.9",
  hostname: "mc",
  vmid: 9,
};
const spec: AgentSpec = {
  apiVersion: "zerolaghub.dev/v1alpha1",
  kind: "GameServer",
  metadata: { name: "mc", namespace: "default", uid: "u", generation: 4 },
  spec: { game: "generic", command: ["srv"], ports: [{ name: "game", port: 25565 }], env: { A: "spec" } },
  ports: [],
  heartbeatSeconds: 5,
};

function ctx(signal = new AbortController().signal) {
  const progress: string[] = [];
  return {
    progress,
    ctx: { spec, generation: 4, env, logger: pino({ level: "silent" }), clock: new FakeClock(), signal, inherited: { PATH: "/usr/bin" }, progress: (m: string) => progress.push(m) },
  };
}

describe("provisioning steps", () => {
  it("run in order; each sees what earlier ones contributed, and the server plan gets their PATH, env and inputs", async () => {
    const seen: string[][] = [];
    const runtime: ProvisioningStep = {
      name: "runtime",
      run: (c) => {
        seen.push([...c.provisioned.path]);
        c.progress("installing node");
        return { path: ["/w/mc/opt/zlh/runtimes/node/current/bin"], env: { A: "runtime", B: "runtime" }, inputs: { "runtime/node": "20.19.0 sha256:ab" } };
      },
    };
    const mods: ProvisioningStep = {
      name: "mods",
      run: (c) => {
        seen.push([...c.provisioned.path]);
        return { inputs: { mods: "sha512:cd" }, note: "2 mods installed" };
      },
    };
    const { ctx: c, progress } = ctx();
    const out = await runSteps(defaultSteps([runtime, mods]), c);
    expect(seen).toEqual([[], ["/w/mc/opt/zlh/runtimes/node/current/bin"]]);
    expect(progress).toEqual(["installing node"]);
    expect(out.notes).toEqual(["2 mods installed"]);
    expect(out.services.map((s) => s.name)).toEqual([SERVER_SERVICE]);
    const server = out.services[0]!;
    expect(server.env.PATH).toBe("/w/mc/opt/zlh/runtimes/node/current/bin:/usr/bin");
    expect(server.env).toMatchObject({ A: "spec", B: "runtime" });
    expect(server.inputs).toEqual({ "runtime/node": "20.19.0 sha256:ab", mods: "sha512:cd" });
    expect(server.pidFile).toBe("/w/mc/run/server.pid");
    expect(server.logFile).toBe("/w/mc/var/log/server.log");
  });

  it("skips steps that do not apply to the spec's kind", async () => {
    const ran: string[] = [];
    const devOnly: ProvisioningStep = { name: "code-server", appliesTo: (s) => s.kind === "DevEnvironment", run: () => void ran.push("code-server") };
    const out = await runSteps(defaultSteps([devOnly]), ctx().ctx);
    expect(ran).toEqual([]);
    expect(out.services).toHaveLength(1);
  });

  it("a later step's service replaces an earlier one of the same name", async () => {
    const base = planServer(spec.kind === "GameServer" ? spec.spec : (undefined as never), { root: "/w/mc", ip: "127.0.0.9", generation: 4, allocated: [], inherited: {} });
    const extra: ProvisioningStep = { name: "wrapper", run: (c) => ({ services: [{ ...c.provisioned.services[0]!, argv: ["wrapped", ...c.provisioned.services[0]!.argv] }] }) };
    const out = await runSteps([...defaultSteps(), extra], ctx().ctx);
    expect(out.services.map((s) => s.argv)).toEqual([["wrapped", ...base.argv]]);
  });

  it("a failing step stops provisioning with an error naming the step; later steps do not run", async () => {
    const ran: string[] = [];
    const broken: ProvisioningStep = { name: "runtime", run: () => Promise.reject(new Error("sha256 mismatch: want ab, got cd")) };
    const after: ProvisioningStep = { name: "mods", run: () => void ran.push("mods") };
    const err = await runSteps([broken, after], ctx().ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisioningError);
    expect(err).toMatchObject({ step: "runtime", reason: "ProvisioningFailed", message: "runtime: sha256 mismatch: want ab, got cd" });
    expect(ran).toEqual([]);
  });

  it("stops between steps once the signal aborts", async () => {
    const ac = new AbortController();
    const ran: string[] = [];
    const first: ProvisioningStep = { name: "a", run: () => void (ran.push("a"), ac.abort()) };
    const second: ProvisioningStep = { name: "b", run: () => void ran.push("b") };
    await runSteps([first, second], ctx(ac.signal).ctx);
    expect(ran).toEqual(["a"]);
  });
});
