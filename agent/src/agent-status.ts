// One report from many parts: provisioning progress, the primary service (the game server)
// and any other supervised services. Pure, so the rules are tested as a table.
import type { SupervisorStatus } from "./supervisor.js";

export interface ServiceReport {
  name: string;
  state: SupervisorStatus["state"];
  pid?: number;
  restarts: number;
  message?: string;
}

/** What the agent reports: the primary service's status plus every service's own. */
export interface AgentStatus extends SupervisorStatus {
  services?: ServiceReport[];
}

export type ProvisioningPhase = "installing" | "provisioned" | "failed" | "stopping" | "stopped";

export interface StatusParts {
  phase: ProvisioningPhase;
  /** Generation of the spec provisioning last completed (or is working on, while installing). */
  generation?: number;
  provisioningError?: string;
  /** Latest progress message of a running step. */
  progress?: string;
  notes: readonly string[];
  /** Name of the service whose state is the agent's state (the game server); none for dev environments. */
  primary?: string;
  services: readonly { name: string; status: SupervisorStatus }[];
}

const MAX_MESSAGE = 4096;

function clip(text: string): string {
  return text.length <= MAX_MESSAGE ? text : text.slice(0, MAX_MESSAGE - 1) + "…";
}

function serviceReport(name: string, s: SupervisorStatus): ServiceReport {
  const r: ServiceReport = { name, state: s.state, restarts: s.restarts };
  if (s.pid !== undefined) r.pid = s.pid;
  if (s.message !== undefined) r.message = s.message.length > 1024 ? s.message.slice(0, 1023) + "…" : s.message;
  return r;
}

function withoutUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function combineStatus(parts: StatusParts): AgentStatus {
  const primary = parts.primary ? parts.services.find((s) => s.name === parts.primary)?.status : undefined;
  const services = parts.services.map((s) => serviceReport(s.name, s.status));
  const base = { services, generation: parts.generation };

  if (parts.phase === "failed") {
    const error = parts.provisioningError ?? "provisioning failed";
    return withoutUndefined({ ...base, state: "error", restarts: primary?.restarts ?? 0, provisioningComplete: false, provisioningError: clip(error), message: clip(error), pid: primary?.pid });
  }
  if (primary) {
    const message = parts.progress ?? primary.message;
    return withoutUndefined({
      ...base,
      state: primary.state,
      pid: primary.pid,
      restarts: primary.restarts,
      provisioningComplete: primary.provisioningComplete,
      provisioningError: primary.provisioningError,
      message: message === undefined ? undefined : clip(message),
      generation: primary.generation ?? parts.generation,
    });
  }
  if (parts.primary && parts.phase === "provisioned") {
    // The primary service was planned but has not reported yet.
    return withoutUndefined({ ...base, state: "starting", restarts: 0, provisioningComplete: false });
  }
  const state = parts.phase === "provisioned" ? "running" : parts.phase;
  const notes = parts.notes.length > 0 ? parts.notes.join("; ") : undefined;
  const message = parts.phase === "installing" ? parts.progress : notes;
  return withoutUndefined({
    ...base,
    state,
    restarts: 0,
    provisioningComplete: parts.phase !== "installing",
    message: message === undefined ? undefined : clip(message),
  });
}
