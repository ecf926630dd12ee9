// Between zlh's records and dns-packet's RDATA objects, and the ownership registry's names
// and TXT strings (see rfc2136.ts for the registry scheme).
import { OWNER_LABEL } from "../owner.js";
import { canonicalRecord, canonicalValue, isRecordType } from "./record-rules.js";
import type { DnsRecord, ObservedRecord } from "./types.js";

/** A record as observed, with the RDATA exactly as the server sent it (for prerequisites). */
export interface ZoneRecord {
  observed: ObservedRecord;
  data: unknown;
}

export interface RegistryEntry {
  data: unknown;
  mark?: string;
  type: string;
  value: string;
}

/** What one name holds: its managed records and its registry entries. */
export interface NameState {
  name: string;
  records: ZoneRecord[];
  registry: RegistryEntry[];
}

/** Where the ownership TXT of `name` lives; a wildcard's sits beside it (`*` must stay leftmost). */
export function registryName(name: string): string {
  return name.startsWith("*.") ? `_zlh-owner-wildcard.${name.slice(2)}` : `_zlh-owner.${name}`;
}

// TXT character-strings hold at most 255 octets; longer text is split and read back joined.
function characterStrings(text: string): Buffer[] {
  const bytes = Buffer.from(text, "utf8");
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  return out.length ? out : [Buffer.alloc(0)];
}

export function registryEntry(r: DnsRecord & { ownerMark: string }): Buffer[] {
  return characterStrings(`${OWNER_LABEL}=${r.ownerMark} ${r.type} ${r.value}`);
}

/** dns-packet's RDATA object for a (canonical) record. */
export function toWireData(r: DnsRecord): unknown {
  switch (r.type) {
    case "A":
    case "AAAA":
    case "CNAME":
      return r.value;
    case "TXT":
      return characterStrings(r.value);
    case "SRV": {
      const [priority, weight, port, target] = r.value.split(" ");
      return { priority: Number(priority), weight: Number(weight), port: Number(port), target: target === "." ? "" : target };
    }
  }
}

/** A decoded answer RR as a record, or undefined for types zlh does not manage. */
export function recordFromWire(name: string, rr: { type: string; ttl?: number; data?: unknown }): ObservedRecord | undefined {
  if (!isRecordType(rr.type) || rr.ttl === undefined) return undefined;
  const d = rr.data;
  let value: string;
  switch (rr.type) {
    case "A":
    case "AAAA":
    case "CNAME":
      value = String(d);
      break;
    case "TXT":
      value = Array.isArray(d) ? Buffer.concat(d.map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(String(x))))).toString("utf8") : String(d);
      break;
    case "SRV": {
      const s = d as { priority: number; weight: number; port: number; target: string };
      value = `${s.priority} ${s.weight} ${s.port} ${s.target || "."}`;
      break;
    }
  }
  return canonicalRecord({ name, type: rr.type, ttl: rr.ttl, value: canonicalValue(rr.type, value) });
}
