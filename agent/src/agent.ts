// Wires the agent together: fetch the spec, report, run the server (or prepare the dev
// environment), follow spec generation changes, and shut down cleanly.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { AgentEnv } from "./agent-env.js";
import { sleep, type Clock } from "./clock.js";
import { fetchSpecWithRetry, type AgentSpec, type ControllerApi } from "./controller-client.js";
import { prepareDevEnvironment } from "./dev-environment.js";
import { PidFile } from "./pidfile.js";
import { Reporter } from "./reporter.js";
import { planServer, workloadPaths, type ServerPlan } from "./server-plan.js";
import { Supervisor, type Launcher, type SupervisorStatus, type TcpProbe } from "./supervisor.js";

const REFETCH_LAG_MS = 1000;

export interface AgentOptions {
  env: AgentEnv;
  api: ControllerApi;
  clock: Clock;
  logger: Logger;
  launcher: Launcher;
  probe: TcpProbe;
  /** The agent's own environment, from which PATH and locale pass to the server. */
  inherited: Record<string, string | undefined>;
  /** How long shutdown waits for the final reports to reach the controller. */
  finalReportTimeoutMs?: number;
}

export class Agent {
  private readonly abort = new AbortController();
  private reporter: Reporter | undefined;
  private supervisor: Supervisor | undefined;
  private status: SupervisorStatus = { state: "installing", restarts: 0, provisioningComplete: false };
  private generation = 0;
  private wantedGeneration = 0;
  private refetching = false;
  private running: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: AgentOptions) {}

  /** Fetches the spec (retrying while the controller is away) and starts the workload. */
  run(): Promise<void> {
    this.running ??= this.runOnce();
    return this.running;
  }

  /** Stops the server gracefully, reports `stopped`, and stops reporting. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async runOnce(): Promise<void> {
    const { clock, logger, api } = this.opts;
    const spec = await fetchSpecWithRetry(api, { clock, logger, signal: this.abort.signal });
    if (!spec || this.abort.signal.aborted) return;
    this.generation = this.wantedGeneration = spec.metadata.generation;
    logger.info({ kind: spec.kind, generation: this.generation, heartbeatSeconds: spec.heartbeatSeconds }, "spec fetched");

    this.reporter = new Reporter({
      sink: api,
      clock,
      logger,
      heartbeatMs: spec.heartbeatSeconds * 1000,
      onGeneration: (g) => this.generationSeen(g),
    });
    this.publish({ ...this.status, generation: this.generation });
    this.reporter.start();

    if (spec.kind === "DevEnvironment") {
      this.publishPrepared(() => prepareDevEnvironment(this.opts.env.root, spec.spec, this.generation));
      return;
    }
    await this.runServer(spec);
  }

  /** Starts the server for `spec`, or replaces the running one gracefully. */
  private async runServer(spec: AgentSpec & { kind: "GameServer" }): Promise<void> {
    const plan = this.planFor(spec);
    if (!plan) return;
    if (this.supervisor) return this.supervisor.restartWith(plan);
    this.supervisor = new Supervisor({
      clock: this.opts.clock,
      launcher: this.opts.launcher,
      probe: this.opts.probe,
      pidfile: new PidFile(workloadPaths(this.opts.env.root).pidFile),
      onStatus: (s) => this.publish(s),
      logger: this.opts.logger,
    });
    this.supervisor.start(plan);
  }

  private async stopOnce(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.opts.logger.info({}, "agent stopping");
    if (this.supervisor) {
      await this.supervisor.stop();
    } else if (this.reporter) {
      this.publish({ ...this.status, state: "stopping" });
      this.publish({ ...this.status, state: "stopped", pid: undefined });
    }
    if (this.reporter) {
      const sent = await this.reporter.flush(this.opts.finalReportTimeoutMs ?? 5000);
      if (!sent) this.opts.logger.warn({}, "final report not delivered");
      this.reporter.close();
    }
    this.opts.logger.info({}, "agent stopped");
  }

  private publish(status: SupervisorStatus): void {
    if (status.state !== this.status.state) this.opts.logger.info({ state: status.state, pid: status.pid, restarts: status.restarts }, "state changed");
    this.status = status;
    this.reporter?.update(status);
  }

  /** Runs a preparation step, turning a failure into an `error` report instead of a crash. */
  private publishPrepared(prepare: () => SupervisorStatus): void {
    try {
      this.publish(prepare());
    } catch (e) {
      const message = `preparing the workload failed: ${(e as Error).message}`;
      this.publish({ ...this.status, state: "error", provisioningError: message, message });
    }
  }

  private planFor(spec: AgentSpec & { kind: "GameServer" }): ServerPlan | undefined {
    const { env } = this.opts;
    try {
      const plan = planServer(spec.spec, {
        root: env.root,
        ip: env.ip,
        generation: spec.metadata.generation,
        allocated: spec.ports,
        inherited: this.opts.inherited,
      });
      for (const dir of [plan.cwd, dirname(plan.logFile), dirname(workloadPaths(env.root).pidFile)]) mkdirSync(dir, { recursive: true });
      return plan;
    } catch (e) {
      const message = `preparing the server failed: ${(e as Error).message}`;
      this.publish({ ...this.status, state: "error", provisioningError: message, message });
      return undefined;
    }
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
        if (spec.kind === "DevEnvironment") {
          this.publishPrepared(() => prepareDevEnvironment(this.opts.env.root, spec.spec, g));
        } else {
          await this.runServer(spec);
        }
      }
    } finally {
      this.refetching = false;
    }
  }
}
