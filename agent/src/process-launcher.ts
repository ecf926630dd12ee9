// Real process control for the supervisor. The server runs in its own process group (so a
// stop reaches its children too) and outside the agent's lifetime: its output goes straight
// to the log file and the agent only holds its stdin, so killing the agent leaves it running
// for the next agent to reattach to.
import { spawn } from "node:child_process";
import { accessSync, closeSync, constants, fstatSync, mkdirSync, openSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import type { Clock, TimerHandle } from "./clock.js";
import { LogTail, lastLines } from "./log-tail.js";
import { processStartTime, type PidRecord } from "./pidfile.js";
import type { ServerPlan } from "./server-plan.js";
import type { Launcher, ProcessExit, ServerProcess } from "./supervisor.js";
import { killMarkedProcesses } from "./stray-servers.js";
import { prepareWorkloadDirs, workloadSpawn, type WorkloadIdentity } from "./workload-identity.js";

/**
 * Set on every server to its pidfile's path: unique per service of a workload (and per
 * workload), so the next agent can find a server no pidfile names (stray-servers.ts).
 */
export const SERVICE_MARK_VARIABLE = "ZLH_SERVICE_PIDFILE";

/** How often a reattached server (not our child, so no exit event) is checked for life. */
const LIVENESS_POLL_MS = 1000;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves argv[0] the way execvp would, so "not found" is reported before spawning. */
function resolveCommand(command: string, cwd: string, pathVar: string | undefined): string | undefined {
  if (command.includes("/")) {
    const full = isAbsolute(command) ? command : resolve(cwd, command);
    return executable(full) ? full : undefined;
  }
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (dir && executable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Shared plumbing of child and reattached servers: exit listeners and the log tail. */
abstract class BaseProcess implements ServerProcess {
  private exitListeners: ((exit: ProcessExit) => void)[] = [];
  private exit: ProcessExit | undefined;
  private tail: LogTail | undefined;

  constructor(
    readonly pid: number,
    private readonly logFile: string,
    private readonly logOffset: number,
    protected readonly clock: Clock,
  ) {}

  abstract writeLine(line: string): boolean;

  signalGroup(signal: NodeJS.Signals): void {
    killGroup(this.pid, signal);
  }

  onExit(listener: (exit: ProcessExit) => void): void {
    if (this.exit) listener(this.exit);
    else this.exitListeners.push(listener);
  }

  onLine(listener: (line: string) => void): void {
    this.tail?.stop();
    this.tail = new LogTail(this.logFile, this.logOffset, this.clock, listener);
  }

  release(): void {
    this.tail?.stop();
  }

  protected exited(exit: ProcessExit): void {
    if (this.exit) return;
    this.exit = exit;
    // Children the server left behind in its group would hold its ports across a restart.
    killGroup(this.pid, "SIGKILL");
    this.tail?.stop();
    for (const l of this.exitListeners.splice(0)) l(exit);
  }
}

class ChildServer extends BaseProcess {
  constructor(
    pid: number,
    private readonly stdin: NodeJS.WritableStream & { writable: boolean },
    logFile: string,
    logOffset: number,
    clock: Clock,
  ) {
    super(pid, logFile, logOffset, clock);
  }

  writeLine(line: string): boolean {
    if (!this.stdin.writable) return false;
    this.stdin.write(line + "\n");
    return true;
  }

  markExited(exit: ProcessExit): void {
    this.exited(exit);
  }
}

class ReattachedServer extends BaseProcess {
  private timer: TimerHandle | undefined;

  constructor(record: PidRecord, logFile: string, clock: Clock) {
    super(record.pid, logFile, record.logOffset ?? 0, clock);
    const poll = (): void => {
      if (processStartTime(record.pid) !== record.startTime) {
        this.exited({ code: null, signal: null, description: "server exited (reattached, exit status unknown)" });
        return;
      }
      this.timer = clock.setTimeout(poll, LIVENESS_POLL_MS);
    };
    this.timer = clock.setTimeout(poll, LIVENESS_POLL_MS);
  }

  writeLine(): boolean {
    // Its stdin was the previous agent's pipe; the supervisor falls back to SIGTERM.
    return false;
  }

  override release(): void {
    this.clock.clearTimeout(this.timer);
    super.release();
  }
}

export class ProcessLauncher implements Launcher {
  constructor(
    private readonly clock: Clock,
    /** As which user and in which sandbox servers run (workload-identity.ts); default: as the agent. */
    private readonly identity: WorkloadIdentity = { sandbox: "none", hide: [] },
  ) {}

  launch(plan: ServerPlan): { process: ServerProcess; startTime: string; logOffset: number } {
    mkdirSync(plan.cwd, { recursive: true });
    mkdirSync(dirname(plan.logFile), { recursive: true });
    const command = plan.argv[0]!;
    const resolved = resolveCommand(command, plan.cwd, plan.env.PATH);
    if (!resolved) throw new Error(`cannot start server: command ${JSON.stringify(command)} not found or not executable`);

    prepareWorkloadDirs(this.identity);
    // Every workload process goes through workload-identity.ts: its user and its sandbox.
    const run = workloadSpawn(this.identity, { argv: [resolved, ...plan.argv.slice(1)], cwd: plan.cwd, env: { ...plan.env, [SERVICE_MARK_VARIABLE]: plan.pidFile } });
    const log = openSync(plan.logFile, "a");
    let child;
    let logOffset: number;
    try {
      logOffset = fstatSync(log).size;
      child = spawn(run.file, run.args, {
        cwd: run.cwd,
        env: run.env,
        detached: true, // own session and process group
        stdio: ["pipe", log, log],
        ...(run.file === resolved ? { argv0: command } : {}),
        ...(run.uid !== undefined ? { uid: run.uid, gid: run.gid! } : {}),
      });
    } finally {
      closeSync(log); // the child holds its own copy
    }
    child.on("error", () => {
      // Surfaced as an exit below or as a missing pid; an unhandled 'error' would kill the agent.
    });
    child.stdin!.on("error", () => {
      // EPIPE when the server closed stdin or died: nothing to do.
    });
    if (child.pid === undefined) throw new Error(`cannot start server: spawn of ${JSON.stringify(command)} failed`);
    const server = new ChildServer(child.pid, child.stdin!, plan.logFile, logOffset, this.clock);
    child.once("exit", (code, signal) => server.markExited({ code, signal }));
    return { process: server, startTime: processStartTime(child.pid) ?? "", logOffset };
  }

  startTimeOf(pid: number): string | undefined {
    return processStartTime(pid);
  }

  stopStrays(plan: ServerPlan): number {
    return killMarkedProcesses(SERVICE_MARK_VARIABLE, plan.pidFile);
  }

  attach(record: PidRecord, plan: ServerPlan): ServerProcess {
    return new ReattachedServer(record, plan.logFile, this.clock);
  }

  lastLogLines(plan: ServerPlan, count: number): string[] {
    return lastLines(plan.logFile, count);
  }
}
