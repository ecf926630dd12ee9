// One definition of a well-formed record and of its canonical text, shared by every DNS
// provider and its twin, so "is this record already there?" has the same answer everywhere
// and the planner can compare desired with observed values by string equality.
import { isIPv4, isIPv6 } from "node:net";
import { parseOwnerMark } from "../owner.js";
import type { DnsRecord, ObservedRecord, RecordType } from "./types.js";

export const RECORD_TYPES: readonly RecordType[] = ["A", "AAAA", "CNAME", "TXT", "SRV"];

export function isRecordType(t: string): t is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(t);
}

/** Lowercase, no trailing dot: the form `DnsRecord.name` and CNAME/SRV targets take. */
export function canonicalName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.length > 1 && n.endsWith(".") ? n.slice(0, -1) : n;
}

/** Canonical RDATA text: targets lowercase without trailing dot, SRV fields single-spaced. */
export function canonicalValue(type: RecordType, value: string): string {
  switch (type) {
    case "A":
      return value.trim();
    case "AAAA":
      return value.trim().toLowerCase();
    case "CNAME":
      return canonicalName(value);
    case "TXT":
      return value;
    case "SRV": {
      const parts = value.trim().split(/\s+/);
      if (parts.length !== 4) return value.trim();
      return [...parts.slice(0, 3).map((p) => (/^\d+$/.test(p) ? String(Number(p)) : p)), canonicalName(parts[3]!)].join(" ");
    }
  }
}

export function canonicalRecord<R extends DnsRecord>(r: R): R {
  return { ...r, name: canonicalName(r.name), value: canonicalValue(r.type, r.value) };
}

const LABEL = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;

/** Why `name` is not a usable owner name or target, or undefined when it is. */
export function hostnameProblem(name: string, allowWildcard = false): string | undefined {
  if (name.length === 0 || name.length > 253) return "must be 1-253 characters";
  const labels = name.split(".");
  for (const [i, label] of labels.entries()) {
    if (allowWildcard && i === 0 && label === "*") continue;
    if (!LABEL.test(label)) return `label "${label}" must be 1-63 of a-z, 0-9, '-', '_' and not start or end with '-'`;
  }
  return undefined;
}

function valueProblem(type: RecordType, value: string): string | undefined {
  switch (type) {
    case "A":
      return isIPv4(value) ? undefined : "value must be an IPv4 address";
    case "AAAA":
      return isIPv6(value) ? undefined : "value must be an IPv6 address";
    case "CNAME": {
      const p = hostnameProblem(value);
      return p && `target ${p}`;
    }
    case "TXT":
      return undefined;
    case "SRV": {
      const parts = value.split(" ");
      if (parts.length !== 4) return 'value must be "<priority> <weight> <port> <target>"';
      for (const [i, field] of ["priority", "weight", "port"].entries()) {
        const n = Number(parts[i]);
        if (!/^\d+$/.test(parts[i]!) || n > 65535) return `${field} must be an integer 0-65535`;
      }
      if (parts[3] === ".") return undefined;
      const p = hostnameProblem(parts[3]!);
      return p && `target ${p}`;
    }
  }
}

/** `mc1.zlh.localhost A 127.77.0.100`: how messages name a record. */
export function describeRecord(r: DnsRecord): string {
  return `${r.name} ${r.type} ${r.type === "TXT" ? JSON.stringify(r.value) : r.value}`;
}

/** Why a (canonical) record cannot be written, or undefined when it can. */
export function recordProblem(r: ObservedRecord, zone?: string): string | undefined {
  if (!isRecordType(r.type)) return `type must be one of ${RECORD_TYPES.join(", ")}`;
  const nameProblem = hostnameProblem(r.name, true);
  if (nameProblem) return `name ${nameProblem}`;
  if (zone && r.name !== zone && !r.name.endsWith(`.${zone}`)) return `name is outside zone ${zone}`;
  if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > 2_147_483_647) return "ttl must be an integer 0-2147483647";
  const v = valueProblem(r.type, r.value);
  if (v) return v;
  if (r.ownerMark !== undefined && !parseOwnerMark(r.ownerMark)) return `owner mark "${r.ownerMark}" is not <kind>/<namespace>/<name>/<uid>`;
  return undefined;
}

/** Same RR (name, type, RDATA), whatever the TTL and owner. */
export function sameRR(a: DnsRecord, b: DnsRecord): boolean {
  return a.name === b.name && a.type === b.type && a.value === b.value;
}

/** Same RR, same TTL, same owner mark: nothing to write. */
export function identicalRecord(a: ObservedRecord, b: ObservedRecord): boolean {
  return sameRR(a, b) && a.ttl === b.ttl && a.ownerMark === b.ownerMark;
}
