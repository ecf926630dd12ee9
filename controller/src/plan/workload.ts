import type { DesiredWorkload } from "../providers/workload/types.js";
import { ownerOf, type ZlhResource } from "./resource.js";

export function workloadHostname(r: ZlhResource, vmid: number): string {
  return r.kind === "GameServer" ? r.spec.hostname ?? r.metadata.name : `dev-${vmid}`;
}

export function desiredWorkload(r: ZlhResource, vmid: number, agent: DesiredWorkload["agent"]): DesiredWorkload {
  const res = r.spec.resources ?? {};
  return {
    owner: ownerOf(r),
    vmid,
    hostname: workloadHostname(r, vmid),
    resources: { cpu: res.cpu ?? 1, memoryMiB: res.memoryMiB ?? 1024, diskGiB: res.diskGiB ?? 8 },
    agent,
  };
}
