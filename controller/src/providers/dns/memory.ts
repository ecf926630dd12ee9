// The DNS twin: same rules as the zone file (shared apply-changes.ts and record-rules.ts), no
// disk, plus hooks for reconciler tests (inject failures, seed foreign records, count writes).
// Records are indexed by name, and a change only touches the records of the names it names,
// so 10,000 resources cost what 10 do per call.
import { FailureInjector } from "../failure-injection.js";
import type { ProviderErrorReason } from "../provider-error.js";
import { applyDnsChanges, touchedNames } from "./apply-changes.js";
import { canonicalName, canonicalRecord } from "./record-rules.js";
import type { DnsChanges, DnsProvider, ObservedRecord } from "./types.js";

export interface MemoryDnsOptions {
  /** When set, records outside this zone are refused, as a real zone would. */
  zone?: string;
}

export class MemoryDnsProvider implements DnsProvider {
  readonly name = "memory";
  /** Applies that changed something (an apply that finds everything in place is not a write). */
  writes = 0;
  /** Records by name, names in the order they first got a record. */
  private readonly state = new Map<string, ObservedRecord[]>();
  private readonly failures = new FailureInjector();
  private readonly zone?: string;

  constructor(options: MemoryDnsOptions = {}) {
    this.zone = options.zone === undefined ? undefined : canonicalName(options.zone);
  }

  failNext(n: number, message: string, options?: { reason?: ProviderErrorReason; methods?: readonly string[] }): void {
    this.failures.failNext(n, message, options);
  }

  setFailing(message: string | undefined, reason?: ProviderErrorReason): void {
    this.failures.setFailing(message, reason);
  }

  /** Adds records as if someone else had created them (no owner mark = foreign). Not a write. */
  seed(records: readonly ObservedRecord[]): void {
    for (const r of records) {
      const c = canonicalRecord({ ...r });
      this.state.set(c.name, [...(this.state.get(c.name) ?? []), c]);
    }
  }

  /** Every record, ours and foreign. */
  records(): ObservedRecord[] {
    return [...this.state.values()].flat().map((r) => ({ ...r }));
  }

  async observe(names: readonly string[]): Promise<ObservedRecord[]> {
    this.failures.check("observe");
    const out: ObservedRecord[] = [];
    for (const name of new Set(names.map(canonicalName))) for (const r of this.state.get(name) ?? []) out.push({ ...r });
    return out;
  }

  async apply(changes: DnsChanges): Promise<void> {
    this.failures.check("apply");
    const names = touchedNames(changes);
    const current = [...names].flatMap((n) => this.state.get(n) ?? []);
    const result = applyDnsChanges(current, { recordOf: (r) => r, make: (r) => ({ ...r }) }, changes, this.zone, { exclusiveRRsets: true });
    if (!result.changed) return;
    const byName = new Map<string, ObservedRecord[]>();
    for (const r of result.entries) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
    for (const n of names) {
      const next = byName.get(n);
      if (next) this.state.set(n, next);
      else this.state.delete(n);
    }
    this.writes += 1;
  }

  async listOwned(): Promise<ObservedRecord[]> {
    this.failures.check("listOwned");
    return this.records().filter((r) => r.ownerMark !== undefined);
  }

  async listAll(): Promise<ObservedRecord[]> {
    this.failures.check("listAll");
    return this.records();
  }
}
