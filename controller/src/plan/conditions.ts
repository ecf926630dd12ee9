// Status is data: one helper sets a condition, one function derives the phase.
import type { Condition, ResourceStatus } from "../../../schemas/generated/types.js";

export type ConditionType = Condition["type"];
export type ConditionStatus = Condition["status"];
export type Phase = NonNullable<ResourceStatus["phase"]>;

export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** Sets one condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(conditions: readonly Condition[], input: ConditionInput, nowIso: string, generation: number): Condition[] {
  const old = conditions.find((c) => c.type === input.type);
  const next: Condition = {
    ...input,
    lastTransitionTime: old && old.status === input.status ? old.lastTransitionTime : nowIso,
    observedGeneration: generation,
  };
  const order: ConditionType[] = ["WorkloadReady", "DNSReady", "RouteReady", "AgentReady", "Ready"];
  return [...conditions.filter((c) => c.type !== input.type), next].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

export function conditionStatus(conditions: readonly Condition[] | undefined, type: ConditionType): ConditionStatus {
  return conditions?.find((c) => c.type === type)?.status ?? "Unknown";
}

export type AgentState = "installing" | "starting" | "running" | "stopping" | "stopped" | "error";

/**
 * The phase shown to users, derived from conditions and the agent's state only.
 * A condition False with a reason ending in "Failed" (a provider failed) or "Conflict" (a name
 * or file is taken by someone else) is Error.
 */
export function derivePhase(conditions: readonly Condition[], agentState: AgentState | undefined, deleting: boolean): Phase {
  if (deleting) return "Terminating";
  if (conditions.some((c) => c.type !== "Ready" && c.status === "False" && /(Failed|Conflict)$/.test(c.reason))) return "Error";
  if (agentState === "error") return "Error";
  const infra: ConditionType[] = ["WorkloadReady", "DNSReady", "RouteReady"];
  if (infra.every((t) => conditionStatus(conditions, t) === "Unknown") && agentState === undefined) return "Pending";
  if (!infra.every((t) => conditionStatus(conditions, t) === "True")) return "Provisioning";
  switch (agentState) {
    case undefined:
    case "installing":
      return agentState === undefined ? "Provisioning" : "Installing";
    case "starting":
      return "Starting";
    case "running":
      return conditionStatus(conditions, "AgentReady") === "True" ? "Running" : "Starting";
    default:
      return "Starting";
  }
}

/** How each agent state reads in the Ready condition's message. */
const SERVER_STATE_TEXT: Record<AgentState, string> = {
  installing: "the agent is installing the server",
  starting: "the server is starting",
  running: "the server is running",
  stopping: "the server is stopping",
  stopped: "the server is stopped",
  error: "the server failed",
};

/**
 * Ready summarises the others: the first condition that is not True explains why not, and
 * with every condition True the server itself must be running (the agent may report
 * installing or starting while its heartbeats are perfectly healthy). `detail` is what the
 * agent said about a failure (already escaped for display).
 */
export function readyCondition(conditions: readonly Condition[], agentState: AgentState | undefined, detail?: string): ConditionInput {
  const blocking = conditions.find((c) => c.type !== "Ready" && c.status !== "True");
  if (blocking) return { type: "Ready", status: blocking.status === "False" ? "False" : "Unknown", reason: blocking.reason, message: `${blocking.type}: ${blocking.message}` };
  if (agentState !== "running") {
    const reason = agentState === undefined ? "ServerUnknown" : `Server${agentState[0]!.toUpperCase()}${agentState.slice(1)}`;
    const text = agentState === undefined ? "waiting for the agent's first report" : SERVER_STATE_TEXT[agentState];
    const message = agentState === "error" && detail ? `${text}: ${detail}` : text;
    return { type: "Ready", status: agentState === "error" ? "False" : "Unknown", reason, message };
  }
  return { type: "Ready", status: "True", reason: "Ready", message: "workload, DNS, route and agent are ready" };
}
