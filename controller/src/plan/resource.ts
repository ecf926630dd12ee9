// The two resource kinds as one union, and the facts about them the plan needs.
import type { GameServer, DevEnvironment, AllocatedPort } from "../../../schemas/generated/types.js";
import type { Owner } from "../providers/owner.js";

export type ZlhResource = GameServer | DevEnvironment;
export type ResourceKind = ZlhResource["kind"];

export const GROUP = "zerolaghub.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const FINALIZER = "zerolaghub.dev/cleanup";
export const CODE_SERVER_PORT = 6000;

export const kinds = {
  GameServer: { plural: "gameservers", short: "gs" },
  DevEnvironment: { plural: "devenvironments", short: "dev" },
} as const satisfies Record<ResourceKind, { plural: string; short: string }>;

export function pluralOf(kind: ResourceKind): "gameservers" | "devenvironments" {
  return kinds[kind].plural;
}

export function ownerOf(r: ZlhResource): Owner {
  return { kind: r.kind, namespace: r.metadata.namespace ?? "default", name: r.metadata.name, uid: r.metadata.uid ?? "" };
}

/** Where a resource landed: ids persisted in status plus the workload's address once known. */
export interface Placement {
  vmid: number;
  ports: AllocatedPort[];
  ip: string;
}

/** Controller-wide settings the plan depends on (from the controller config). */
export interface PlanSettings {
  zone: string;
  ttl: number;
  /** Address of the Traefik edge. When unset (local mode), names and URLs point at the workload itself. */
  edgeAddress?: string;
  httpEntryPoint: string;
  certResolver?: string;
}

/** The ports a resource needs; publicPort is filled in by the allocator for game servers. */
export function wantedPorts(r: ZlhResource): AllocatedPort[] {
  if (r.kind === "GameServer") {
    return r.spec.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "tcp" }));
  }
  const out: AllocatedPort[] = [];
  if (r.spec.codeServer?.enabled !== false) out.push({ name: "code-server", port: CODE_SERVER_PORT, protocol: "http" });
  for (const p of r.spec.ports ?? []) if (p.expose) out.push({ name: `port-${p.port}`, port: p.port, protocol: "http" });
  return out;
}
