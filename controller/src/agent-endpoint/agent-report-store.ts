// Agent reports live in memory: a heartbeat only refreshes `receivedAt`, and only a change
// in what the agent observes wakes the reconciler, so thousands of agents heartbeating do
// not become thousands of API writes (the same reason Kubernetes moved node heartbeats to
// Leases).
import { isDeepStrictEqual } from "node:util";
import type { AgentReport } from "../../../schemas/generated/types.js";

export interface StoredAgentReport {
  report: AgentReport;
  /** Controller clock (ms since epoch) when the report arrived; the agent's `time` is not trusted. */
  receivedAt: number;
}

export interface AgentReadiness {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface AgentReportStoreOptions {
  clock: { now(): number };
  /** Called with the key whenever the meaningful state of that agent changed. */
  onChange?: (key: string) => void;
}

/** `"<plural>/<namespace>/<name>"`: the key reports are stored under. */
export function agentReportKey(plural: string, namespace: string, name: string): string {
  return `${plural}/${namespace}/${name}`;
}

const MEANINGFUL: readonly (keyof AgentReport)[] = [
  "state",
  "pid",
  "restarts",
  "provisioningComplete",
  "provisioningError",
  "message",
  "generation",
  "services",
];

function meaningfullyDifferent(a: AgentReport | undefined, b: AgentReport): boolean {
  return a === undefined || MEANINGFUL.some((k) => !isDeepStrictEqual(a[k], b[k]));
}

export class AgentReportStore {
  private readonly reports = new Map<string, StoredAgentReport>();
  private readonly listeners = new Set<(key: string) => void>();

  constructor(private readonly options: AgentReportStoreOptions) {
    if (options.onChange) this.listeners.add(options.onChange);
  }

  /** Adds a change listener (e.g. the reconciler's enqueue); returns its remover. */
  subscribe(listener: (key: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(key: string, report: AgentReport): void {
    const previous = this.reports.get(key)?.report;
    this.reports.set(key, { report, receivedAt: this.options.clock.now() });
    if (meaningfullyDifferent(previous, report)) for (const l of this.listeners) l(key);
  }

  get(key: string): StoredAgentReport | undefined {
    return this.reports.get(key);
  }

  delete(key: string): void {
    this.reports.delete(key);
  }

  keys(): string[] {
    return [...this.reports.keys()];
  }

  /**
   * The AgentReady condition for `key`: False once `missed` heartbeats in a row did not
   * arrive, Unknown before the first report. It says the agent is alive and reporting; the
   * server's own health is in the reported state.
   */
  agentReady(key: string, now: number, heartbeatSeconds: number, missed = 3): AgentReadiness {
    const stored = this.reports.get(key);
    if (!stored) return { status: "Unknown", reason: "NoReport", message: "the agent has not reported yet" };
    const silentMs = now - stored.receivedAt;
    if (silentMs > missed * heartbeatSeconds * 1000) {
      return {
        status: "False",
        reason: "HeartbeatMissed",
        message: `no report for ${Math.floor(silentMs / 1000)}s (heartbeat every ${heartbeatSeconds}s, ${missed} missed)`,
      };
    }
    return { status: "True", reason: "Reporting", message: `agent ${stored.report.version} reports ${stored.report.state}` };
  }
}
