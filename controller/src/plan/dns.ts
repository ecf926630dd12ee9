// Desired DNS records for a resource, and the pure diff against what a provider observed
// (external-dns style: we only ever change records that carry our owner mark).
import type { DesiredRecord, DnsChanges, ObservedRecord } from "../providers/dns/types.js";
import { ownerMark } from "../providers/owner.js";
import { hostname, minecraftSrvName } from "./hostnames.js";
import { ownerOf, type PlanSettings, type Placement, type ZlhResource } from "./resource.js";

/**
 * Which address a DNS provider publishes: `edge` (public names: the Traefik edge's address
 * and public ports, or the workload itself when no edge is configured) or `workload`
 * (internal names: the workload's own address and container ports).
 */
export type DnsTargetKind = "edge" | "workload";

export function desiredRecords(r: ZlhResource, at: Placement, s: PlanSettings, target: DnsTargetKind = "edge"): DesiredRecord[] {
  const mark = ownerMark(ownerOf(r));
  const viaEdge = target === "edge" && s.edgeAddress !== undefined;
  const address = viaEdge ? s.edgeAddress! : at.ip;
  const a = (name: string): DesiredRecord => ({ name, type: "A", ttl: s.ttl, value: address, ownerMark: mark });
  if (r.kind === "GameServer") {
    const host = hostname({ kind: "GameServer", label: r.spec.hostname ?? r.metadata.name }, s.zone);
    const records = [a(host)];
    if (r.spec.game === "minecraft") {
      const game = at.ports.find((p) => p.protocol === "tcp" && p.name === "game") ?? at.ports.find((p) => p.protocol === "tcp");
      const port = viaEdge ? game?.publicPort : game?.port;
      if (port) records.push({ name: minecraftSrvName(host), type: "SRV", ttl: s.ttl, value: `0 5 ${port} ${host}`, ownerMark: mark });
    }
    return records;
  }
  const records = [a(hostname({ kind: "DevEnvironment", vmid: at.vmid }, s.zone))];
  for (const p of at.ports) {
    if (p.name.startsWith("port-")) records.push(a(hostname({ kind: "DevEnvironment", vmid: at.vmid, port: p.port }, s.zone)));
  }
  return records;
}

export interface DnsPlan {
  changes: DnsChanges;
  /** Names where a record we did not create stands in the way; we never overwrite those. */
  conflicts: string[];
}

const key = (r: { name: string; type: string }) => `${r.name}|${r.type}`;

export function planDns(desired: readonly DesiredRecord[], observed: readonly ObservedRecord[], mark: string): DnsPlan {
  const changes: DnsChanges = { create: [], update: [], delete: [] };
  const conflicts: string[] = [];
  const ours = observed.filter((o) => o.ownerMark === mark);
  const wanted = new Set(desired.map(key));
  for (const d of desired) {
    const foreign = observed.filter((o) => key(o) === key(d) && o.ownerMark !== mark);
    if (foreign.length > 0) {
      conflicts.push(`${d.type} ${d.name} exists and is not owned by ${mark}${foreign[0]?.ownerMark ? ` (owner ${foreign[0].ownerMark})` : ""}`);
      continue;
    }
    const mine = ours.filter((o) => key(o) === key(d));
    const same = mine.find((o) => o.value === d.value && o.ttl === d.ttl);
    if (same) {
      changes.delete.push(...mine.filter((o) => o !== same));
    } else if (mine[0]) {
      changes.update.push({ from: mine[0], to: d });
      changes.delete.push(...mine.slice(1));
    } else {
      changes.create.push(d);
    }
  }
  changes.delete.push(...ours.filter((o) => !wanted.has(key(o))));
  return { changes, conflicts };
}

export function isEmpty(c: DnsChanges): boolean {
  return c.create.length === 0 && c.update.length === 0 && c.delete.length === 0;
}
