// The agent as an orchestrator: fetch the spec, run the provisioning steps for it, supervise
// the services they plan, report one combined status, and follow spec generations. What is
// provisioned and which processes run is not decided here: it comes from the steps
// (provisioning.ts, workload-steps.ts), so installers plug in without touching this file.
import type { Logger } from "pino";
import type { AgentEnv } from "./agent-env.js";
import { combineStatus, type AgentStatus, type ProvisioningPhase } from "./agent-status.js";
import { sleep, type Clock } from "./clock.js";
import { fetchSpecWithRetry, type AgentSpec, type ControllerApi } from "./controller-client.js";
import { ProvisioningError, runSteps, type ProvisioningStep } from "./provisioning.js";
import { Reporter } from "./reporter.js";
import { SERVER_SERVICE } from "./server-plan.js";
import { ServiceSet } from "./service-set.js";
import type { Launcher, TcpProbe } from "./supervisor.js";
import { defaultSteps } from "./workload-steps.js";

const REFETCH_LAG_MS = 1000;

export interface AgentOptions {
  env: AgentEnv;
  api: ControllerApi;
  clock: Clock;
  logger: Logger;
  launcher: Launcher;
  probe: TcpProbe;
  /** The agent's own environment, from which PATH and locale pass to the services. */
  inherited: Record<string, string | undefined>;
  /** Provisioning steps, in order (default: defaultSteps()). */
  steps?: readonly ProvisioningStep[];
  /** How long shutdown waits for the final reports to reach the controller. */
  finalReportTimeoutMs?: number;
}

export class Agent {
  private readonly abort = new AbortController();
  private readonly steps: readonly ProvisioningStep[];
  private readonly services: ServiceSet;
  private reporter: Reporter | undefined;
  private kind: AgentSpec["kind"] | undefined;
  private phase: ProvisioningPhase = "installing";
  private provisioningError: string | undefined;
  private progress: string | undefined;
  private notes: string[] = [];
  private provisionedGeneration: number | undefined;
  private status: AgentStatus = { state: "installing", restarts: 0, provisioningComplete: false };
  private generation = 0;
  private wantedGeneration = 0;
  private refetching = false;
  private running: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.steps = opts.steps ?? defaultSteps();
    this.services = new ServiceSet({
      clock: opts.clock,
      launcher: opts.launcher,
      probe: opts.probe,
      onChange: () => this.publish(),
      logger: opts.logger,
    });
  }

  /** Fetches the spec (retrying while the controller is away) and starts the workload. */
  run(): Promise<void> {
    this.running ??= this.runOnce();
    return this.running;
  }

  /** Stops every service gracefully, reports `stopped`, and stops reporting. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  /** The status last reported. */
  snapshot(): AgentStatus {
    return { ...this.status };
  }

  private async runOnce(): Promise<void> {
    const { clock, logger, api } = this.opts;
    const spec = await fetchSpecWithRetry(api, { clock, logger, signal: this.abort.signal });
    if (!spec || this.abort.signal.aborted) return;
    this.generation = this.wantedGeneration = spec.metadata.generation;
    this.kind = spec.kind;
    logger.info({ kind: spec.kind, generation: this.generation, heartbeatSeconds: spec.heartbeatSeconds }, "spec fetched");

    this.reporter = new Reporter({
      sink: api,
      clock,
      logger,
      heartbeatMs: spec.heartbeatSeconds * 1000,
      onGeneration: (g) => this.generationSeen(g),
    });
    this.publish();
    this.reporter.start();
    await this.applySpec(spec);
  }

  /** Provisions `spec` and brings the supervised services in line with it. */
  private async applySpec(spec: AgentSpec): Promise<void> {
    const generation = spec.metadata.generation;
    if (this.provisionedGeneration === undefined) this.phase = "installing";
    let provisioned;
    try {
      provisioned = await runSteps(this.steps, {
        spec,
        generation,
        env: this.opts.env,
        logger: this.opts.logger,
        clock: this.opts.clock,
        signal: this.abort.signal,
        inherited: this.opts.inherited,
        progress: (message) => {
          this.progress = message;
          this.publish();
        },
      });
    } catch (e) {
      const message = e instanceof ProvisioningError ? e.message : (e as Error).message;
      this.opts.logger.warn({ reason: "ProvisioningFailed", err: message, generation }, "provisioning failed");
      this.phase = "failed";
      this.provisioningError = `preparing the workload failed: ${message}`;
      this.progress = undefined;
      this.publish();
      return;
    }
    if (this.abort.signal.aborted) return;
    this.phase = "provisioned";
    this.provisioningError = undefined;
    this.progress = undefined;
    this.notes = provisioned.notes;
    this.provisionedGeneration = generation;
    await this.services.apply(provisioned.services);
    this.publish();
  }

  private async stopOnce(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.opts.logger.info({}, "agent stopping");
    if (this.reporter) {
      this.phase = "stopping";
      this.publish();
    }
    await this.services.stopAll();
    if (this.reporter) {
      this.phase = "stopped";
      this.publish();
      const sent = await this.reporter.flush(this.opts.finalReportTimeoutMs ?? 5000);
      if (!sent) this.opts.logger.warn({}, "final report not delivered");
      this.reporter.close();
    }
    this.opts.logger.info({}, "agent stopped");
  }

  private publish(): void {
    const next = combineStatus({
      phase: this.phase,
      generation: this.provisionedGeneration ?? this.generation,
      provisioningError: this.provisioningError,
      progress: this.progress,
      notes: this.notes,
      primary: this.kind === "GameServer" ? SERVER_SERVICE : undefined,
      services: this.services.statuses(),
    });
    if (next.state !== this.status.state) this.opts.logger.info({ state: next.state, pid: next.pid, restarts: next.restarts }, "state changed");
    this.status = next;
    this.reporter?.update(next);
  }

  /** The controller's answer to a report carries the resource's generation; newer means refetch. */
  private generationSeen(g: number): void {
    if (g <= this.wantedGeneration) return;
    this.wantedGeneration = g;
    if (!this.refetching) void this.followGeneration();
  }

  private async followGeneration(): Promise<void> {
    this.refetching = true;
    try {
      // The first spec's provisioning finishes before a newer one is applied.
      await this.running;
      while (this.wantedGeneration > this.generation && !this.abort.signal.aborted) {
        const spec = await fetchSpecWithRetry(this.opts.api, { clock: this.opts.clock, logger: this.opts.logger, signal: this.abort.signal });
        if (!spec || this.abort.signal.aborted) return;
        const g = spec.metadata.generation;
        this.wantedGeneration = Math.max(this.wantedGeneration, g);
        if (g <= this.generation) {
          // The spec came from a replica whose cache lags behind the report's answer.
          await sleep(this.opts.clock, REFETCH_LAG_MS, this.abort.signal);
          continue;
        }
        this.opts.logger.info({ from: this.generation, to: g }, "spec generation changed");
        this.generation = g;
        await this.applySpec(spec);
      }
    } finally {
      this.refetching = false;
    }
  }
}
