// Names and addresses every workload provider derives from (owner, vmid), shared by the local
// provider and its twin so ids, IPs and refusals match exactly.
import { ownerMark, parseOwnerMark, type Owner } from "../owner.js";
import { ProviderError } from "../provider-error.js";
import type { DesiredWorkload } from "./types.js";

/** `<vmid>-<kind>-<namespace>-<name>`: also a directory name, so it must never contain '/' or '..'. */
export const WORKLOAD_ID = /^[0-9]{1,5}-(gameserver|devenvironment)-[a-z0-9-]+$/;

export function workloadId(owner: Owner, vmid: number): string {
  return `${vmid}-${owner.kind.toLowerCase()}-${owner.namespace}-${owner.name}`;
}

export function assertWorkloadId(id: string): void {
  if (typeof id !== "string" || !WORKLOAD_ID.test(id) || id.length > 200) {
    throw new ProviderError("Invalid", `workload id ${JSON.stringify(id)} must match ${WORKLOAD_ID.source}`);
  }
}

/**
 * Each workload gets its own loopback address, 127.<block>.<vmid high byte>.<vmid low byte>:
 * Linux routes all of 127/8 to lo, so workloads bind the same ports side by side the way
 * containers with their own IPs do. `block` (1-254) belongs to one workload root (see
 * address-block.ts), so two zlh servers on one host never hand out the same address.
 */
export function workloadIp(vmid: number, block: number): string {
  assertVmidHasAddress(vmid);
  if (!Number.isInteger(block) || block < 1 || block > 254) throw new ProviderError("Invalid", `address block ${block} must be an integer 1-254`);
  return `127.${block}.${(vmid >> 8) & 255}.${vmid & 255}`;
}

export function assertVmidHasAddress(vmid: number): void {
  if (!Number.isInteger(vmid) || vmid < 1 || vmid > 65535) {
    throw new ProviderError("Invalid", `vmid ${vmid} cannot be mapped to a loopback address: it must be an integer 1-65535`);
  }
}

/** `gameservers/<namespace>/<name>`: how the agent names its resource to the controller. */
export function resourcePath(owner: Owner): string {
  const plural = owner.kind === "GameServer" ? "gameservers" : "devenvironments";
  return `${plural}/${owner.namespace}/${owner.name}`;
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Throws `Invalid` naming the field that cannot be used. */
export function assertValidDesired(d: DesiredWorkload): void {
  const mark = ownerMark(d.owner);
  if (!parseOwnerMark(mark)) throw new ProviderError("Invalid", `workload owner ${JSON.stringify(mark)} is not <kind>/<namespace>/<name>/<uid>`);
  assertVmidHasAddress(d.vmid);
  if (!LABEL.test(d.hostname)) throw new ProviderError("Invalid", `workload ${mark}: hostname ${JSON.stringify(d.hostname)} must be a DNS-1123 label`);
  let url: URL | undefined;
  try {
    url = new URL(d.agent.controllerUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ProviderError("Invalid", `workload ${mark}: agent.controllerUrl ${JSON.stringify(d.agent.controllerUrl)} must be an http(s) URL`);
  }
  if (!d.agent.token || /[\r\n]/.test(d.agent.token)) {
    throw new ProviderError("Invalid", `workload ${mark}: agent.token must be a non-empty single line`);
  }
}
