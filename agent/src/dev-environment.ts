// DevEnvironment, agent v0: the workspace exists and the agent reports it. Runtimes and
// code-server arrive in a later issue; until then the report says so rather than pretend.
import { mkdirSync } from "node:fs";
import type { DevEnvironmentSpec } from "../../schemas/generated/types.js";
import { workloadPaths } from "./server-plan.js";
import type { SupervisorStatus } from "./supervisor.js";

export function prepareDevEnvironment(root: string, spec: DevEnvironmentSpec, generation: number): SupervisorStatus {
  mkdirSync(workloadPaths(root).workspace, { recursive: true });
  const status: SupervisorStatus = { state: "running", restarts: 0, provisioningComplete: true, generation };
  if (spec.codeServer?.enabled !== false) status.message = "workspace ready; code-server is not installed yet (agent v0)";
  return status;
}
