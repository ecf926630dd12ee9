// Every process the agent supervises (the game server, code-server, dev services), one
// Supervisor each, keyed by service name. apply() brings the set in line with the wanted
// plans: new services start (or reattach), changed ones restart, dropped ones stop.
import type { Clock } from "./clock.js";
import { PidFile, type PidStore } from "./pidfile.js";
import type { ServicePlan } from "./server-plan.js";
import { Supervisor, type Launcher, type SupervisorStatus, type TcpProbe } from "./supervisor.js";

export interface ServiceSetDeps {
  clock: Clock;
  launcher: Launcher;
  probe: TcpProbe;
  /** Where a service's process is recorded; default its plan's pidFile. */
  pidStore?: (plan: ServicePlan) => PidStore;
  /** Called after any service's status changed. */
  onChange: (name: string, status: SupervisorStatus) => void;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; child?(b: object): unknown };
}

/**
 * What the running process was started from. A spec change elsewhere (the grace period,
 * the stop command, backoff or readiness timing) is taken over without a restart: a
 * player should not be kicked because an operator changed how long a stop may take.
 */
const LAUNCH_INPUTS = ["argv", "env", "cwd", "logFile", "pidFile", "readiness", "inputs"] as const;

/** The launch inputs that differ between two plans of one service (empty: no restart needed). */
export function changedLaunchInputs(was: ServicePlan, now: ServicePlan): string[] {
  return LAUNCH_INPUTS.filter((k) => JSON.stringify(was[k] ?? null) !== JSON.stringify(now[k] ?? null));
}

interface Entry {
  supervisor: Supervisor;
  plan: ServicePlan;
}

export class ServiceSet {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly deps: ServiceSetDeps) {}

  names(): string[] {
    return [...this.entries.keys()];
  }

  status(name: string): SupervisorStatus | undefined {
    return this.entries.get(name)?.supervisor.snapshot();
  }

  /** Status of every service, in the order they were first started. */
  statuses(): { name: string; status: SupervisorStatus }[] {
    return [...this.entries].map(([name, e]) => ({ name, status: e.supervisor.snapshot() }));
  }

  /** Starts, restarts and stops services so that exactly `plans` run. */
  async apply(plans: readonly ServicePlan[]): Promise<void> {
    if (this.closed) return;
    const wanted = new Set(plans.map((p) => p.name));
    const work: Promise<void>[] = [];
    for (const [name, entry] of this.entries) {
      if (!wanted.has(name)) work.push(this.remove(name, entry));
    }
    for (const plan of plans) {
      const entry = this.entries.get(plan.name);
      if (!entry) {
        this.add(plan);
      } else if (entry.plan.generation !== plan.generation) {
        const changed = changedLaunchInputs(entry.plan, plan);
        entry.plan = plan;
        if (changed.length === 0 && entry.supervisor.adopt(plan)) {
          this.deps.logger?.info({ service: plan.name, generation: plan.generation }, "new generation taken over without a restart: no server input changed");
        } else {
          this.deps.logger?.info({ service: plan.name, generation: plan.generation, changed }, "restarting: server inputs changed");
          work.push(entry.supervisor.restartWith(plan, changed));
        }
      }
    }
    await Promise.all(work);
  }

  /** Stops every service gracefully (agent shutdown); nothing starts afterwards. */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.values()].map((e) => e.supervisor.stop()));
  }

  private add(plan: ServicePlan): void {
    const supervisor = new Supervisor({
      clock: this.deps.clock,
      launcher: this.deps.launcher,
      probe: this.deps.probe,
      pidfile: this.deps.pidStore?.(plan) ?? new PidFile(plan.pidFile),
      onStatus: (s) => this.deps.onChange(plan.name, s),
      ...(this.deps.logger ? { logger: this.deps.logger } : {}),
    });
    this.entries.set(plan.name, { supervisor, plan });
    supervisor.start(plan);
  }

  private async remove(name: string, entry: Entry): Promise<void> {
    await entry.supervisor.stop();
    if (this.entries.get(name) === entry) this.entries.delete(name);
  }
}
