// Extension point of the agent: provisioning steps. Before any service (re)starts, the agent
// runs its steps in order for the current spec; each may install something (a runtime, mods,
// code-server), prepare the workload (dev user, profile, workspace) and contribute to what the
// services run: PATH entries, environment, inputs whose change restarts a service, and the
// services themselves. A step that throws stops provisioning; its message becomes the
// report's provisioningError.
import type { Logger } from "pino";
import type { AgentEnv } from "./agent-env.js";
import type { Clock } from "./clock.js";
import type { AgentSpec } from "./controller-client.js";
import type { ServicePlan } from "./server-plan.js";

/** What the steps so far contributed; later steps read it and add to it. */
export interface Provisioned {
  /** Directories put in front of PATH for every supervised process, in order. */
  path: string[];
  /** Environment for every supervised process (the spec's own env wins). */
  env: Record<string, string>;
  /** Inputs of the services, e.g. `{"runtime/node": "20.19.0 sha256:…"}`; a change restarts them. */
  inputs: Record<string, string>;
  /** The services to supervise, by name (a later step may replace an earlier one's). */
  services: ServicePlan[];
  /** Notes for the report's message while nothing is wrong ("workspace ready", …). */
  notes: string[];
}

export interface StepContext {
  spec: AgentSpec;
  generation: number;
  env: AgentEnv;
  /** Child logger carrying `step`. */
  logger: Logger;
  clock: Clock;
  /** Aborted when the agent stops or a newer spec supersedes this one. */
  signal: AbortSignal;
  /** The agent's own environment (PATH, locale), for steps that plan processes. */
  inherited: Record<string, string | undefined>;
  provisioned: Readonly<Provisioned>;
  /** Shows progress in the report's message ("downloading node 20.19.0 (12/40 MiB)"). */
  progress(message: string): void;
}

/** What a step adds. Arrays are appended; maps merged; a service replaces one of the same name. */
export interface StepOutput {
  path?: string[];
  env?: Record<string, string>;
  inputs?: Record<string, string>;
  services?: ServicePlan[];
  note?: string;
}

export interface ProvisioningStep {
  /** Short name for logs and errors ("runtime", "mods", "game-server"). */
  readonly name: string;
  /** Whether the step has anything to do for this spec; default: always. */
  appliesTo?(spec: AgentSpec): boolean;
  run(ctx: StepContext): Promise<StepOutput | void> | StepOutput | void;
}

export class ProvisioningError extends Error {
  readonly reason = "ProvisioningFailed";
  constructor(readonly step: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProvisioningError";
  }
}

export function emptyProvisioned(): Provisioned {
  return { path: [], env: {}, inputs: {}, services: [], notes: [] };
}

export function mergeOutput(into: Provisioned, out: StepOutput): void {
  if (out.path) into.path.push(...out.path);
  if (out.env) Object.assign(into.env, out.env);
  if (out.inputs) Object.assign(into.inputs, out.inputs);
  for (const s of out.services ?? []) {
    const i = into.services.findIndex((x) => x.name === s.name);
    if (i >= 0) into.services[i] = s;
    else into.services.push(s);
  }
  if (out.note) into.notes.push(out.note);
}

export type StepRunContext = Omit<StepContext, "provisioned" | "logger"> & { logger: Logger };

/** Runs the applicable steps in order; throws ProvisioningError naming the failed step. */
export async function runSteps(steps: readonly ProvisioningStep[], ctx: StepRunContext): Promise<Provisioned> {
  const provisioned = emptyProvisioned();
  for (const step of steps) {
    if (ctx.signal.aborted) break;
    if (step.appliesTo && !step.appliesTo(ctx.spec)) continue;
    const logger = ctx.logger.child({ step: step.name });
    try {
      const out = await step.run({ ...ctx, logger, provisioned });
      if (out) mergeOutput(provisioned, out);
    } catch (e) {
      if (e instanceof ProvisioningError) throw e;
      throw new ProvisioningError(step.name, `${step.name}: ${(e as Error).message}`, { cause: e });
    }
  }
  return provisioned;
}
