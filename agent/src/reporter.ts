// Sends reports: every state change at once and in order, plus a heartbeat every
// heartbeatSeconds. A failed post keeps its place in the queue and is retried, so the
// controller still sees installing → starting → running after a blip.
import type { Logger } from "pino";
import type { AgentReport } from "../../schemas/generated/types.js";
import type { Clock, TimerHandle } from "./clock.js";
import type { AgentStatus } from "./agent-status.js";
import { AGENT_VERSION } from "./version.js";

export interface ReportSink {
  postReport(report: AgentReport): Promise<{ generation: number }>;
}

export interface ReporterOptions {
  sink: ReportSink;
  clock: Clock;
  logger: Logger;
  heartbeatMs: number;
  /** Called with the resource's generation whenever the controller answers with one. */
  onGeneration?: (generation: number) => void;
  /** Wait before retrying a failed post (default: min(2 s, heartbeat)). */
  retryMs?: number;
}

/** State-change reports kept while the controller is unreachable; older ones are dropped first. */
const MAX_QUEUE = 32;

export function toReport(status: AgentStatus, time: number): AgentReport {
  const r: AgentReport = {
    state: status.state,
    restarts: status.restarts,
    provisioningComplete: status.provisioningComplete,
    version: AGENT_VERSION,
    time: new Date(time).toISOString(),
  };
  if (status.generation !== undefined) r.generation = status.generation;
  if (status.pid !== undefined) r.pid = status.pid;
  if (status.provisioningError !== undefined) r.provisioningError = status.provisioningError;
  if (status.message !== undefined) r.message = status.message;
  if (status.services !== undefined && status.services.length > 0) r.services = status.services.map((s) => ({ ...s }));
  return r;
}

export class Reporter {
  private current: AgentStatus | undefined;
  private readonly queue: AgentReport[] = [];
  private sending = false;
  private heartbeat: TimerHandle | undefined;
  private retry: TimerHandle | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ReporterOptions) {}

  /** Starts the heartbeat; call after the first update(). */
  start(): void {
    this.scheduleHeartbeat();
  }

  /** Reports a new status immediately (queued behind any unsent ones). */
  update(status: AgentStatus): void {
    this.current = status;
    this.enqueue(toReport(status, this.opts.clock.now()));
  }

  /** Resolves when every queued report was sent, or after `timeoutMs`; true when drained. */
  flush(timeoutMs: number): Promise<boolean> {
    if (!this.sending && this.queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.opts.clock.setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        this.opts.clock.clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  close(): void {
    this.closed = true;
    this.opts.clock.clearTimeout(this.heartbeat);
    this.opts.clock.clearTimeout(this.retry);
  }

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    this.heartbeat = this.opts.clock.setTimeout(() => {
      // A heartbeat behind unsent state changes adds nothing: they carry the same news.
      if (this.current && this.queue.length === 0) this.enqueue(toReport(this.current, this.opts.clock.now()));
      this.scheduleHeartbeat();
    }, this.opts.heartbeatMs);
  }

  private enqueue(report: AgentReport): void {
    this.queue.push(report);
    if (this.queue.length > MAX_QUEUE) this.queue.splice(0, this.queue.length - MAX_QUEUE);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.sending || this.retry !== undefined) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const report = this.queue[0]!;
        try {
          const { generation } = await this.opts.sink.postReport(report);
          if (this.queue[0] === report) this.queue.shift();
          this.opts.onGeneration?.(generation);
        } catch (e) {
          const err = e as { reason?: string; message: string };
          const retryMs = this.opts.retryMs ?? Math.min(2000, this.opts.heartbeatMs);
          this.opts.logger.warn({ reason: err.reason ?? "Error", err: err.message, state: report.state, retryInMs: retryMs }, "report failed");
          if (err.reason === "Invalid") {
            // The controller rejected this report's content; resending it cannot help.
            if (this.queue[0] === report) this.queue.shift();
            continue;
          }
          if (!this.closed || this.idleWaiters.length > 0) {
            this.retry = this.opts.clock.setTimeout(() => {
              this.retry = undefined;
              void this.drain();
            }, retryMs);
          }
          return;
        }
      }
    } finally {
      this.sending = false;
      if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
