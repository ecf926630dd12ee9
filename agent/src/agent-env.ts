// The workload provider hands the agent everything through the environment. A missing or
// malformed variable is a provisioning bug, so the agent refuses to start and says which.
import { isIP } from "node:net";
import { isAbsolute } from "node:path";

export const RESOURCE_PLURALS = ["gameservers", "devenvironments"] as const;
export type ResourcePlural = (typeof RESOURCE_PLURALS)[number];

export interface AgentEnv {
  controllerUrl: string;
  tokenFile: string;
  resource: { plural: ResourcePlural; namespace: string; name: string };
  root: string;
  ip: string;
  hostname: string;
  vmid: number;
}

export class AgentEnvError extends Error {
  readonly reason = "InvalidEnvironment";
  constructor(message: string) {
    super(message);
    this.name = "AgentEnvError";
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function required(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === "") throw new AgentEnvError(`${name} is not set (${what})`);
  return v.trim();
}

/** Reads and checks the ZLH_* variables; throws AgentEnvError naming the first bad one. */
export function readAgentEnv(env: NodeJS.ProcessEnv): AgentEnv {
  const controllerUrl = required(env, "ZLH_CONTROLLER_URL", "base URL of the controller's agent endpoint");
  let url: URL;
  try {
    url = new URL(controllerUrl);
  } catch {
    throw new AgentEnvError(`ZLH_CONTROLLER_URL ${JSON.stringify(controllerUrl)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AgentEnvError(`ZLH_CONTROLLER_URL ${JSON.stringify(controllerUrl)} must be http or https`);
  }
  const tokenFile = required(env, "ZLH_TOKEN_FILE", "file holding this resource's agent token");

  const resourceText = required(env, "ZLH_RESOURCE", "<plural>/<namespace>/<name>");
  const [plural, namespace, name, ...rest] = resourceText.split("/");
  if (rest.length > 0 || !RESOURCE_PLURALS.includes(plural as ResourcePlural) || !DNS_LABEL.test(namespace ?? "") || !DNS_LABEL.test(name ?? "")) {
    throw new AgentEnvError(`ZLH_RESOURCE ${JSON.stringify(resourceText)} must be <${RESOURCE_PLURALS.join("|")}>/<namespace>/<name>`);
  }

  const root = required(env, "ZLH_ROOT", "the workload's root directory");
  if (!isAbsolute(root)) throw new AgentEnvError(`ZLH_ROOT ${JSON.stringify(root)} must be an absolute path`);
  const ip = required(env, "ZLH_IP", "the address the server binds");
  if (isIP(ip) === 0) throw new AgentEnvError(`ZLH_IP ${JSON.stringify(ip)} is not an IP address`);
  const hostname = required(env, "ZLH_HOSTNAME", "the workload's hostname");
  const vmidText = required(env, "ZLH_VMID", "the workload's numeric id");
  const vmid = Number(vmidText);
  if (!Number.isInteger(vmid) || vmid < 0) throw new AgentEnvError(`ZLH_VMID ${JSON.stringify(vmidText)} must be a non-negative integer`);

  return {
    controllerUrl: controllerUrl.replace(/\/+$/, ""),
    tokenFile,
    resource: { plural: plural as ResourcePlural, namespace: namespace!, name: name! },
    root,
    ip,
    hostname,
    vmid,
  };
}
