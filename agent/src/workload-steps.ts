// The agent's built-in provisioning steps and their default order. Steps that install things
// (runtimes, mods, code-server) go before the game-server step, which plans the server from
// the spec plus what they contributed; see provisioning.ts.
import { prepareDevEnvironment } from "./dev-environment.js";
import type { ProvisioningStep, StepContext, StepOutput } from "./provisioning.js";
import { runtimeStep } from "./runtime-step.js";
import { planServer } from "./server-plan.js";

/** DevEnvironment: the workspace exists (dev-environment.ts). */
export const devEnvironmentStep: ProvisioningStep = {
  name: "dev-environment",
  appliesTo: (spec) => spec.kind === "DevEnvironment",
  run(ctx: StepContext): StepOutput {
    if (ctx.spec.kind !== "DevEnvironment") return {};
    const prepared = prepareDevEnvironment(ctx.env.root, ctx.spec.spec, ctx.generation);
    return prepared.message ? { note: prepared.message } : {};
  },
};

/** GameServer: the server process, planned from the spec and what earlier steps provided. */
export const gameServerStep: ProvisioningStep = {
  name: "game-server",
  appliesTo: (spec) => spec.kind === "GameServer",
  run(ctx: StepContext): StepOutput {
    if (ctx.spec.kind !== "GameServer") return {};
    const { env, provisioned } = ctx;
    const plan = planServer(ctx.spec.spec, {
      root: env.root,
      ip: env.ip,
      generation: ctx.generation,
      allocated: ctx.spec.ports,
      inherited: ctx.inherited,
      pathPrepend: provisioned.path,
      env: provisioned.env,
      inputs: provisioned.inputs,
    });
    return { services: [plan] };
  },
};

/**
 * The default step list. `extra` steps (installers) run before the game-server step so that
 * the server sees the PATH, environment and inputs they contribute.
 */
export function defaultSteps(extra: readonly ProvisioningStep[] = []): ProvisioningStep[] {
  return [devEnvironmentStep, runtimeStep(), ...extra, gameServerStep];
}
