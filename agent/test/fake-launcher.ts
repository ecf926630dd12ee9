// Scriptable stand-ins for process control, so the supervisor is tested without processes.
import type { PidRecord, PidStore } from "../src/pidfile.js";
import type { ServerPlan } from "../src/server-plan.js";
import type { Launcher, ProcessExit, ServerProcess } from "../src/supervisor.js";

export class FakeProcess implements ServerProcess {
  readonly stdin: string[] = [];
  readonly signals: NodeJS.Signals[] = [];
  released = false;
  exited: ProcessExit | undefined;
  private exitListeners: ((e: ProcessExit) => void)[] = [];
  private lineListeners: ((l: string) => void)[] = [];

  constructor(
    readonly pid: number,
    readonly reattached: boolean,
    /** Signals the fake "server" dies from; SIGKILL always kills. */
    private readonly diesOn: NodeJS.Signals[] = ["SIGTERM"],
  ) {}

  writeLine(line: string): boolean {
    if (this.reattached || this.exited) return false;
    this.stdin.push(line);
    return true;
  }

  signalGroup(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === "SIGKILL" || this.diesOn.includes(signal)) this.exit(null, signal);
  }

  onExit(listener: (e: ProcessExit) => void): void {
    this.exitListeners.push(listener);
  }

  onLine(listener: (l: string) => void): void {
    this.lineListeners.push(listener);
    // Lines already in the log file are read at once, as LogTail does when it starts.
    for (const l of this.logged) listener(l);
  }

  /** Lines in the log before anyone watches (a reattached server's output since logOffset). */
  logged: string[] = [];

  release(): void {
    this.released = true;
  }

  /** Test helper: the server prints a line. */
  print(line: string): void {
    for (const l of this.lineListeners) l(line);
  }

  /** Test helper: the server exits. */
  exit(code: number | null, signal: string | null = null): void {
    if (this.exited) return;
    this.exited = { code, signal };
    for (const l of this.exitListeners.splice(0)) l(this.exited);
  }
}

export class FakeLauncher implements Launcher {
  readonly launched: { plan: ServerPlan; process: FakeProcess; at: number }[] = [];
  readonly attached: FakeProcess[] = [];
  readonly startTimes = new Map<number, string>();
  logLines = ["booting", "Exception in thread main: boom"];
  diesOn: NodeJS.Signals[] = ["SIGTERM"];
  failNextLaunch: string | undefined;
  private nextPid = 1000;

  constructor(private readonly now: () => number) {}

  get last(): FakeProcess {
    const p = this.launched.at(-1)?.process ?? this.attached.at(-1);
    if (!p) throw new Error("nothing launched");
    return p;
  }

  launch(plan: ServerPlan): { process: FakeProcess; startTime: string; logOffset: number } {
    if (this.failNextLaunch) {
      const m = this.failNextLaunch;
      this.failNextLaunch = undefined;
      throw new Error(m);
    }
    const pid = this.nextPid++;
    const process = new FakeProcess(pid, false, this.diesOn);
    this.startTimes.set(pid, `start-${pid}`);
    process.onExit(() => this.startTimes.delete(pid));
    this.launched.push({ plan, process, at: this.now() });
    return { process, startTime: `start-${pid}`, logOffset: 0 };
  }

  startTimeOf(pid: number): string | undefined {
    return this.startTimes.get(pid);
  }

  /** Lines the next reattached server's log already holds. */
  loggedOnAttach: string[] = [];

  attach(record: PidRecord): FakeProcess {
    const process = new FakeProcess(record.pid, true, this.diesOn);
    process.logged = this.loggedOnAttach;
    process.onExit(() => this.startTimes.delete(record.pid));
    this.attached.push(process);
    return process;
  }

  /** Unrecorded servers still alive; each stopStrays() call kills `straysDiePerCall` of them. */
  strays = 0;
  straysDiePerCall = 1;
  strayCalls = 0;

  stopStrays(): number {
    this.strayCalls++;
    const alive = this.strays;
    this.strays = Math.max(0, this.strays - this.straysDiePerCall);
    return alive;
  }

  lastLogLines(_plan: ServerPlan, count: number): string[] {
    return this.logLines.slice(-count);
  }
}

export class MemoryPidStore implements PidStore {
  record: PidRecord | undefined;
  removed = 0;

  read(): PidRecord | undefined {
    return this.record;
  }

  write(record: PidRecord): void {
    this.record = record;
  }

  remove(): void {
    this.record = undefined;
    this.removed++;
  }
}
