// The agent's part of status: its condition, what status.agent carries, and the events
// for what the agent did. Agent reports are untrusted text, escaped before they go anywhere.
import type { ResourceStatus } from "../../../schemas/generated/types.js";
import type { AgentReportStore } from "../agent-endpoint/agent-report-store.js";
import type { ConditionInput } from "../plan/conditions.js";
import { displayText } from "../plan/display-text.js";
import type { ZlhResource } from "../plan/resource.js";
import type { EventRecorder } from "./event-recorder.js";

/** Status lastHeartbeat is refreshed at most this often: heartbeats live in memory. */
const HEARTBEAT_WRITE_MS = 60_000;

export interface AgentView {
  reports: AgentReportStore;
  now: number;
  heartbeatSeconds: number;
  missedHeartbeats: number;
}

export function agentCondition(key: string, v: AgentView): ConditionInput {
  const r = v.reports.agentReady(key, v.now, v.heartbeatSeconds, v.missedHeartbeats);
  // The store's message counts seconds; status must stay byte-stable between reconciles.
  const message = r.reason === "HeartbeatMissed" ? `missed ${v.missedHeartbeats} heartbeats (every ${v.heartbeatSeconds}s)` : displayText(r.message);
  return { type: "AgentReady", status: r.status, reason: r.reason, message };
}

/**
 * status.agent from the last report. While heartbeats are missed the agent's state is
 * `unknown` and no server pid is shown: nothing vouches for them any more.
 */
export function agentStatus(key: string, obj: ZlhResource, status: ResourceStatus, v: AgentView): ResourceStatus {
  const stored = v.reports.get(key);
  if (!stored) return status;
  const { report, receivedAt } = stored;
  const old = obj.status?.agent?.lastHeartbeat;
  const lastHeartbeat = old && receivedAt - Date.parse(old) < HEARTBEAT_WRITE_MS && receivedAt >= Date.parse(old) ? old : new Date(receivedAt).toISOString();
  const silent = v.reports.agentReady(key, v.now, v.heartbeatSeconds, v.missedHeartbeats).reason === "HeartbeatMissed";
  const out: ResourceStatus = {
    ...status,
    agent: {
      state: silent ? "unknown" : report.state,
      lastHeartbeat,
      restarts: report.restarts,
      version: displayText(report.version, 64),
      ...(report.pid !== undefined && !silent ? { serverPid: report.pid } : {}),
      ...(report.message !== undefined ? { message: displayText(report.message) } : {}),
    },
    provisioningComplete: report.provisioningComplete,
  };
  if (report.provisioningError !== undefined) out.provisioningError = displayText(report.provisioningError);
  else delete out.provisioningError;
  return out;
}

/** The state the phase and Ready are derived from: the last report's, even while silent. */
export function reportedState(key: string, reports: AgentReportStore) {
  return reports.get(key)?.report.state;
}

/** What the agent did since the last status, as events for `zlh describe`. */
export function recordAgentEvents(events: EventRecorder, obj: ZlhResource, before: ResourceStatus | undefined, after: ResourceStatus): void {
  const was = before?.agent;
  const now = after.agent;
  if (!now || (now.state === was?.state && now.restarts === was?.restarts)) return;
  if ((now.restarts ?? 0) > (was?.restarts ?? 0)) events.record(obj, "Warning", "ServerRestarted", `server restarted (${now.restarts} restarts)${now.message ? `: ${now.message}` : ""}`);
  if (now.state === "error" && was?.state !== "error") events.record(obj, "Warning", "ServerFailed", after.provisioningError ?? now.message ?? "the agent gave up on the server");
  else if (now.state === "running" && was?.state !== "running") events.record(obj, "Normal", "ServerRunning", `server running${now.serverPid ? ` (pid ${now.serverPid})` : ""}`);
  else if (now.state === "unknown" && was?.state !== "unknown") events.record(obj, "Warning", "AgentLost", "no report from the agent within the missed-heartbeat window; its workload is restarted if the agent is gone");
}
