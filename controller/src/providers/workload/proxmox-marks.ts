// What the proxmox provider writes on a container so it can find its own again: the owner
// mark in the description (the only field that holds it whole) and tags `zlh` plus
// `zlh-uid-<uid>` (tags fit /^[a-z0-9_][a-z0-9_\-+.]*$/i, so the full mark cannot be one),
// which let observe() pick candidates out of a single list call. None of it is secret.
import { ownerMark, parseOwnerMark, type Owner } from "../owner.js";
import { ProviderError } from "../provider-error.js";

export const OWNER_LINE = "zerolaghub.dev/owner=";
/** The controller URL last delivered to the agent; absent until a delivery succeeded. */
export const DELIVERED_LINE = "zerolaghub.dev/delivered=";
export const ZLH_TAG = "zlh";

/** `<vmid>-<kind>-<namespace>-<name>`, the same shape as the other providers' ids. */
export const PROXMOX_ID = /^([1-9][0-9]{2,8})-(gameserver|devenvironment)-([a-z0-9-]+)$/;

export function uidTag(owner: Owner): string {
  return `zlh-uid-${owner.uid.toLowerCase()}`;
}

export function tagsOf(tags: unknown): string[] {
  return typeof tags === "string" ? tags.split(/[;,\s]+/).filter(Boolean).map((t) => t.toLowerCase()) : [];
}

export function description(owner: Owner, deliveredUrl?: string): string {
  const lines = [`${OWNER_LINE}${ownerMark(owner)}`, "Managed by zlh: do not edit or remove these lines."];
  if (deliveredUrl) lines.push(`${DELIVERED_LINE}${deliveredUrl}`);
  return lines.join("\n");
}

export interface DescriptionMarks {
  mark?: string;
  owner?: Owner;
  deliveredUrl?: string;
}

export function readDescription(text: unknown): DescriptionMarks {
  const out: DescriptionMarks = {};
  if (typeof text !== "string") return out;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith(OWNER_LINE)) {
      const owner = parseOwnerMark(line.slice(OWNER_LINE.length));
      if (owner) {
        out.owner = owner;
        out.mark = ownerMark(owner);
      }
    } else if (line.startsWith(DELIVERED_LINE)) out.deliveredUrl = line.slice(DELIVERED_LINE.length);
  }
  return out;
}

export function proxmoxId(owner: Owner, vmid: number): string {
  return `${vmid}-${owner.kind.toLowerCase()}-${owner.namespace}-${owner.name}`;
}

/** The vmid an id names; throws Invalid for anything else (ids reach URLs). */
export function vmidOfId(id: string): number {
  const m = typeof id === "string" && id.length <= 200 ? PROXMOX_ID.exec(id) : null;
  if (!m) throw new ProviderError("Invalid", `workload id ${JSON.stringify(id)} must match ${PROXMOX_ID.source}`);
  return Number(m[1]);
}

/** Whether `owner` is the one the id was made for (the id carries all but the uid). */
export function idMatches(id: string, owner: Owner | undefined, vmid: number): boolean {
  return owner !== undefined && proxmoxId(owner, vmid) === id;
}

/** `size=10G` of a rootfs line, in GiB; undefined when it cannot be read. */
export function rootfsGiB(rootfs: unknown): number | undefined {
  if (typeof rootfs !== "string") return undefined;
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT])?/i.exec(rootfs);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? "G").toUpperCase();
  const gib = unit === "T" ? n * 1024 : unit === "G" ? n : unit === "M" ? n / 1024 : n / 1024 / 1024;
  return Math.round(gib * 100) / 100;
}
