// What `DnsProvider.apply` means, written once for every backend that keeps its records as a
// list (the memory twin, the zone file): deletes, then updates, then creates, each checked
// against what is there now. Re-applying a change that has already happened writes nothing,
// which is what makes a retried reconcile safe.
import { ProviderError } from "../provider-error.js";
import type { DesiredRecord, DnsChanges, ObservedRecord } from "./types.js";
import { canonicalName, canonicalRecord, describeRecord, identicalRecord, recordProblem, sameRR } from "./record-rules.js";

/** How a backend's list entries map to records. Entries without a record are kept as they are. */
export interface RecordEntries<T> {
  recordOf(entry: T): ObservedRecord | undefined;
  make(record: DesiredRecord): T;
}

export interface AppliedChanges<T> {
  entries: T[];
  changed: boolean;
}

/**
 * Every name a change set touches. `applyDnsChanges` only ever looks at records of the
 * names it changes (matching, conflicts and CNAME clashes are per name), so a backend that
 * indexes its records by name can apply a change to just those names' records.
 */
export function touchedNames(changes: DnsChanges): Set<string> {
  const names = new Set<string>();
  for (const r of changes.create) names.add(canonicalName(r.name));
  for (const r of changes.delete) names.add(canonicalName(r.name));
  for (const u of changes.update) {
    names.add(canonicalName(u.from.name));
    names.add(canonicalName(u.to.name));
  }
  return names;
}

function ownerText(mark: string | undefined): string {
  return mark === undefined ? "not owned by zlh" : `owned by ${mark}`;
}

export interface ApplyOptions {
  /**
   * Refuse a create into an RRset (same name and type) that holds another owner's records
   * or foreign ones. Backends that offer `listAll` need this (see DnsProvider.listAll).
   */
  exclusiveRRsets?: boolean;
}

export function applyDnsChanges<T>(
  current: readonly T[],
  map: RecordEntries<T>,
  changes: DnsChanges,
  zone?: string,
  options: ApplyOptions = {},
): AppliedChanges<T> {
  const creates = changes.create.map((r) => canonicalRecord(r));
  const updates = changes.update.map((u) => ({ from: canonicalRecord(u.from), to: canonicalRecord(u.to) }));
  const deletes = changes.delete.map((r) => canonicalRecord(r));
  for (const r of [...creates, ...updates.map((u) => u.to)]) {
    const problem = recordProblem(r, zone);
    if (problem) throw new ProviderError("Invalid", `record ${describeRecord(r)}: ${problem}`);
    if (r.ownerMark === undefined || r.ownerMark === "") {
      throw new ProviderError("Invalid", `record ${describeRecord(r)}: an owner mark is required`);
    }
  }

  let entries = [...current];
  let changed = false;
  const matches = (r: ObservedRecord) => (e: T) => {
    const o = map.recordOf(e);
    return o !== undefined && sameRR(o, r) && o.ownerMark === r.ownerMark;
  };

  for (const d of deletes) {
    const kept = entries.filter((e) => !matches(d)(e));
    if (kept.length !== entries.length) changed = true;
    entries = kept;
  }

  for (const { from, to } of updates) {
    const at = entries.findIndex(matches(from));
    const done = entries.findIndex((e) => {
      const o = map.recordOf(e);
      return o !== undefined && identicalRecord(o, to);
    });
    if (at < 0) {
      if (done >= 0) continue; // applied earlier: a retried reconcile
      throw new ProviderError(
        "Conflict",
        `record ${describeRecord(from)} (${ownerText(from.ownerMark)}) is no longer there; observe again before updating`,
      );
    }
    if (identicalRecord(map.recordOf(entries[at]!)!, to)) continue;
    assertNoCnameClash(entries, map, to, at);
    if (done >= 0) entries.splice(at, 1);
    else entries[at] = map.make(to);
    changed = true;
  }

  for (const c of creates) {
    const at = entries.findIndex((e) => {
      const o = map.recordOf(e);
      return o !== undefined && sameRR(o, c);
    });
    if (at >= 0) {
      const existing = map.recordOf(entries[at]!)!;
      if (existing.ownerMark !== c.ownerMark) {
        throw new ProviderError("Conflict", `record ${describeRecord(c)} already exists, ${ownerText(existing.ownerMark)}`);
      }
      if (existing.ttl !== c.ttl) {
        entries[at] = map.make(c);
        changed = true;
      }
      continue;
    }
    assertNoCnameClash(entries, map, c, -1);
    if (options.exclusiveRRsets) assertNoForeignRRset(entries, map, c);
    entries.push(map.make(c));
    changed = true;
  }
  return { entries, changed };
}

// A create never joins an RRset (same name and type) someone else holds: a second A record
// next to a foreign one would silently make the name round-robin between them. The planner
// refuses this too, from what it observed; this check holds even when what the controller
// observed is out of date (it trusts listings between syncs, see resources/observed-cache.ts).
function assertNoForeignRRset<T>(entries: readonly T[], map: RecordEntries<T>, r: DesiredRecord): void {
  for (const e of entries) {
    const o = map.recordOf(e);
    if (o && o.name === r.name && o.type === r.type && o.ownerMark !== r.ownerMark) {
      throw new ProviderError("Conflict", `record ${describeRecord(r)}: ${o.name} already has a ${o.type} record ${o.value} (${ownerText(o.ownerMark)})`);
    }
  }
}

// A name holding a CNAME may hold nothing else (RFC 1034 §3.6.2); real servers refuse it.
function assertNoCnameClash<T>(entries: readonly T[], map: RecordEntries<T>, r: DesiredRecord, skip: number): void {
  for (const [i, e] of entries.entries()) {
    const o = map.recordOf(e);
    if (i === skip || !o || o.name !== r.name) continue;
    if (r.type === "CNAME" && !sameRR(o, r)) {
      throw new ProviderError("Conflict", `record ${describeRecord(r)}: ${o.name} already has a ${o.type} record (${ownerText(o.ownerMark)})`);
    }
    if (r.type !== "CNAME" && o.type === "CNAME") {
      throw new ProviderError("Conflict", `record ${describeRecord(r)}: ${o.name} already has a CNAME (${ownerText(o.ownerMark)})`);
    }
  }
}
