// The server's life cycle as a state machine: installing → starting → running, crash
// restarts with backoff, graceful stop, reattachment after an agent restart. Time, process
// control and probes are injected, so every path here is tested without real waiting.
import type { Clock, TimerHandle } from "./clock.js";
import type { PidRecord, PidStore } from "./pidfile.js";
import type { ServerPlan } from "./server-plan.js";

export type AgentState = "installing" | "starting" | "running" | "stopping" | "stopped" | "error";

export interface SupervisorStatus {
  state: AgentState;
  pid?: number;
  restarts: number;
  provisioningComplete: boolean;
  provisioningError?: string;
  message?: string;
  /** Generation of the spec the server runs (or is about to run). */
  generation?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
  /** Set when the cause is known without an exit status (spawn failure, lost non-child). */
  description?: string;
}

/** A running server: our child, or one a previous agent started that we reattached to. */
export interface ServerProcess {
  readonly pid: number;
  /** Writes a line to the server's stdin; false when stdin is not ours (reattached). */
  writeLine(line: string): boolean;
  /** Signals the server's whole process group. */
  signalGroup(signal: NodeJS.Signals): void;
  onExit(listener: (exit: ProcessExit) => void): void;
  onLine(listener: (line: string) => void): void;
  /** Stops any watching (log tail, liveness polling). */
  release(): void;
}

export interface Launcher {
  /** Starts the server in its own process group; throws with a readable message when it cannot. */
  launch(plan: ServerPlan): { process: ServerProcess; startTime: string; logOffset: number };
  /** Start time of a live process, undefined when there is none. */
  startTimeOf(pid: number): string | undefined;
  attach(record: PidRecord, plan: ServerPlan): ServerProcess;
  /** SIGKILLs servers of `plan` that no pidfile names; returns how many were still alive. */
  stopStrays(plan: ServerPlan): number;
  lastLogLines(plan: ServerPlan, count: number): string[];
}

/** One readiness attempt against host:port; true when something accepted the connection. */
export type TcpProbe = (host: string, port: number) => Promise<boolean>;

export interface SupervisorDeps {
  clock: Clock;
  launcher: Launcher;
  probe: TcpProbe;
  pidfile: PidStore;
  onStatus: (status: SupervisorStatus) => void;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** A server that stayed running this long is healthy again: its crash count starts over. */
export const STABLE_RUN_MS = 10 * 60 * 1000;
const LOG_LINES_IN_ERROR = 10;
/** How often, and how many times, a start re-checks that killed strays are gone before launching anyway. */
export const STRAY_CHECK_MS = 100;
const STRAY_CHECKS = 50;
const MAX_MESSAGE = 4096;

function describeExit(exit: ProcessExit): string {
  if (exit.description) return exit.description;
  if (exit.signal) return `server killed by ${exit.signal}`;
  if (exit.code !== null) return `server exited with code ${exit.code}`;
  return "server exited";
}

function clip(text: string): string {
  return text.length <= MAX_MESSAGE ? text : text.slice(0, MAX_MESSAGE - 1) + "…";
}

export class Supervisor {
  private status: SupervisorStatus = { state: "installing", restarts: 0, provisioningComplete: false };
  private plan: ServerPlan | undefined;
  private proc: ServerProcess | undefined;
  /** Crash restarts since the server last ran stably; compared with maxAttempts. */
  private attempts = 0;
  private runningSince: number | undefined;
  /** Why we killed the current process ourselves (readiness timeout), reported instead of its signal. */
  private killReason: string | undefined;
  private readonly timers: Record<"readiness" | "probe" | "backoff" | "grace" | "strays", TimerHandle | undefined> = {
    strays: undefined,
    readiness: undefined,
    probe: undefined,
    backoff: undefined,
    grace: undefined,
  };
  private stopWaiters: (() => void)[] = [];
  private stopPromise: Promise<void> | undefined;
  /** Set by stop(): the agent is shutting down and nothing may start a server again. */
  private closed = false;

  constructor(private readonly deps: SupervisorDeps) {}

  snapshot(): SupervisorStatus {
    return { ...this.status };
  }

  /** Runs `plan`: reattaches to the server in the pidfile when it is still alive, else launches. */
  start(plan: ServerPlan): void {
    if (this.closed) return;
    this.plan = plan;
    this.attempts = 0;
    this.stopPromise = undefined;
    const record = this.deps.pidfile.read();
    if (record) {
      const live = this.deps.launcher.startTimeOf(record.pid);
      if (live !== undefined && live === record.startTime) {
        this.reattach(record, plan);
        return;
      }
      this.deps.logger?.info({ pid: record.pid }, "stale pidfile removed");
      this.deps.pidfile.remove();
    }
    this.launchAfterStrays(0);
  }

  /**
   * No live server is recorded, yet one may run: its agent died between spawn and pidfile.
   * Stop such strays and wait until they are gone, so the new server gets its address
   * and the readiness probe cannot pass against an orphan.
   */
  private launchAfterStrays(check: number): void {
    const plan = this.plan!;
    const alive = this.deps.launcher.stopStrays(plan);
    if (alive === 0 || check >= STRAY_CHECKS) {
      if (alive > 0) this.deps.logger?.warn({ alive }, "unrecorded servers still alive after SIGKILL; launching anyway");
      this.launch();
      return;
    }
    if (check === 0) this.deps.logger?.warn({ alive }, "unrecorded servers of this workload killed before launch");
    this.timers.strays = this.deps.clock.setTimeout(() => {
      this.timers.strays = undefined;
      if (this.closed || this.plan !== plan || this.proc) return;
      this.launchAfterStrays(check + 1);
    }, STRAY_CHECK_MS);
  }

  /** Gracefully stops the server for good (agent shutdown); resolves once it is gone. Idempotent. */
  stop(): Promise<void> {
    this.closed = true;
    return this.stopServer();
  }

  /**
   * A new generation whose launch inputs are those of the running server: keep it running
   * and make `plan` (grace period, stop command…) current. False when there is no live
   * server to keep, so the caller restarts instead.
   */
  adopt(plan: ServerPlan): boolean {
    if (this.closed || !this.proc || (this.status.state !== "running" && this.status.state !== "starting")) return false;
    this.plan = plan;
    const record = this.deps.pidfile.read();
    // So a reattaching agent sees the server as current and does not restart it either.
    if (record && record.pid === this.proc.pid) this.deps.pidfile.write({ ...record, generation: plan.generation });
    this.set({ generation: plan.generation });
    return true;
  }

  /**
   * A new spec generation: stop the current server gracefully, then start with the new
   * plan. `changed` names the inputs that made it necessary; the status message says so.
   */
  async restartWith(plan: ServerPlan, changed: readonly string[] = []): Promise<void> {
    if (this.closed) return;
    await this.stopServer();
    if (this.closed) return;
    this.set({ message: changed.length > 0 ? `restarted for generation ${plan.generation}: ${changed.join(", ")} changed` : undefined, provisioningError: undefined });
    this.start(plan);
  }

  private stopServer(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopPromise = new Promise<void>((resolve) => {
      this.clearTimer("backoff");
      this.clearTimer("strays");
      this.clearTimer("readiness");
      this.clearTimer("probe");
      const proc = this.proc;
      if (!proc) {
        this.set({ state: "stopped", pid: undefined });
        resolve();
        return;
      }
      this.stopWaiters.push(resolve);
      this.set({ state: "stopping", message: undefined });
      const plan = this.plan!;
      const wrote = plan.shutdownCommand !== undefined && proc.writeLine(plan.shutdownCommand);
      if (!wrote) proc.signalGroup("SIGTERM");
      this.deps.logger?.info({ pid: proc.pid, via: wrote ? "stdin" : "SIGTERM", graceMs: plan.graceMs }, "server stopping");
      this.timers.grace = this.deps.clock.setTimeout(() => {
        this.timers.grace = undefined;
        if (this.proc !== proc) return;
        this.deps.logger?.warn({ pid: proc.pid }, "grace period over, killing server");
        proc.signalGroup("SIGKILL");
      }, plan.graceMs);
    });
    return this.stopPromise;
  }

  private reattach(record: PidRecord, plan: ServerPlan): void {
    const proc = this.deps.launcher.attach(record, plan);
    this.deps.logger?.info({ pid: record.pid, generation: record.generation }, "server reattached");
    // "starting" before watching: the readiness line may already be in the log, and is read at once.
    this.set({ state: "starting", pid: proc.pid, generation: record.generation ?? plan.generation, message: undefined });
    this.watch(proc);
    if (record.generation !== undefined && record.generation !== plan.generation) {
      // The server still runs an older spec: replace it the same way a live generation change does.
      void this.restartWith(plan);
    }
  }

  private launch(): void {
    const plan = this.plan!;
    let launched: ReturnType<Launcher["launch"]>;
    try {
      launched = this.deps.launcher.launch(plan);
    } catch (e) {
      this.crashed((e as Error).message);
      return;
    }
    const { process: proc, startTime, logOffset } = launched;
    this.deps.pidfile.write({ pid: proc.pid, startTime, logOffset, generation: plan.generation });
    this.deps.logger?.info({ pid: proc.pid, generation: plan.generation }, "server started");
    this.set({ state: "starting", pid: proc.pid, generation: plan.generation });
    this.watch(proc);
  }

  private watch(proc: ServerProcess): void {
    const plan = this.plan!;
    this.proc = proc;
    this.killReason = undefined;
    proc.onExit((exit) => this.exited(proc, exit));
    const readiness = plan.readiness;
    if (readiness.kind === "logLine") {
      const re = new RegExp(readiness.pattern);
      proc.onLine((line) => {
        if (re.test(line)) this.ready(proc);
      });
    } else {
      this.probeLoop(proc, readiness.host, readiness.port);
    }
    this.timers.readiness = this.deps.clock.setTimeout(() => {
      this.timers.readiness = undefined;
      if (this.proc !== proc || this.status.state !== "starting") return;
      this.killReason = `server not ready after ${plan.readinessTimeoutMs / 1000}s (${readiness.kind === "tcp" ? `tcp ${readiness.host}:${readiness.port}` : `log line /${readiness.pattern}/`})`;
      this.deps.logger?.warn({ pid: proc.pid }, "readiness timeout");
      proc.signalGroup("SIGKILL");
    }, plan.readinessTimeoutMs);
  }

  private probeLoop(proc: ServerProcess, host: string, port: number): void {
    const attempt = (): void => {
      this.timers.probe = undefined;
      void this.deps.probe(host, port).then((ok) => {
        if (this.proc !== proc || this.status.state !== "starting") return;
        // A connection counts only while our server lives: one that died (EADDRINUSE)
        // before its exit was delivered must not be reported Running on another's listener.
        if (ok && this.deps.launcher.startTimeOf(proc.pid) !== undefined) this.ready(proc);
        else this.timers.probe = this.deps.clock.setTimeout(attempt, this.plan!.probeIntervalMs);
      });
    };
    attempt();
  }

  private ready(proc: ServerProcess): void {
    if (this.proc !== proc || this.status.state !== "starting") return;
    this.clearTimer("readiness");
    this.clearTimer("probe");
    this.runningSince = this.deps.clock.now();
    this.deps.logger?.info({ pid: proc.pid }, "server ready");
    this.set({ state: "running", provisioningComplete: true, provisioningError: undefined, message: undefined });
  }

  private exited(proc: ServerProcess, exit: ProcessExit): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    proc.release();
    this.clearTimer("readiness");
    this.clearTimer("probe");
    this.deps.pidfile.remove();
    if (this.status.state === "stopping") {
      this.clearTimer("grace");
      this.runningSince = undefined;
      this.deps.logger?.info({ pid: proc.pid, code: exit.code, signal: exit.signal }, "server stopped");
      this.set({ state: "stopped", pid: undefined });
      for (const w of this.stopWaiters.splice(0)) w();
      return;
    }
    this.crashed(this.killReason ?? describeExit(exit));
  }

  private crashed(reason: string): void {
    const plan = this.plan!;
    const now = this.deps.clock.now();
    if (this.runningSince !== undefined && now - this.runningSince >= STABLE_RUN_MS) this.attempts = 0;
    this.runningSince = undefined;
    this.deps.logger?.warn({ reason, attempts: this.attempts, maxAttempts: plan.maxAttempts }, "server crashed");

    if (this.attempts >= plan.maxAttempts) {
      const lines = this.deps.launcher.lastLogLines(plan, LOG_LINES_IN_ERROR);
      const text = clip(`${reason}; gave up after ${this.attempts} restart${this.attempts === 1 ? "" : "s"}${lines.length ? `; last log lines:\n${lines.join("\n")}` : ""}`);
      this.set({ state: "error", pid: undefined, provisioningError: text, message: text });
      return;
    }
    const delay = plan.backoffMs[Math.min(this.attempts, plan.backoffMs.length - 1)]!;
    this.attempts++;
    this.set({
      state: "starting",
      pid: undefined,
      message: clip(`${reason}; restarting in ${delay / 1000}s (attempt ${this.attempts} of ${plan.maxAttempts})`),
    });
    this.timers.backoff = this.deps.clock.setTimeout(() => {
      this.timers.backoff = undefined;
      this.status.restarts++;
      this.launch();
    }, delay);
  }

  private clearTimer(name: keyof Supervisor["timers"]): void {
    this.deps.clock.clearTimeout(this.timers[name]);
    this.timers[name] = undefined;
  }

  private set(change: Partial<SupervisorStatus>): void {
    const next = { ...this.status, ...change };
    for (const k of Object.keys(next) as (keyof SupervisorStatus)[]) if (next[k] === undefined) delete next[k];
    this.status = next;
    this.deps.onStatus(this.snapshot());
  }
}
