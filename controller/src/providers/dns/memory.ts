// The DNS twin: same rules as the zone file (shared apply-changes.ts and record-rules.ts), no
// disk, plus hooks for reconciler tests (inject failures, seed foreign records, count writes).
import { FailureInjector } from "../failure-injection.js";
import type { ProviderErrorReason } from "../provider-error.js";
import { applyDnsChanges } from "./apply-changes.js";
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
  private state: ObservedRecord[] = [];
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
    this.state.push(...records.map((r) => canonicalRecord({ ...r })));
  }

  /** Every record, ours and foreign, in insertion order. */
  records(): ObservedRecord[] {
    return this.state.map((r) => ({ ...r }));
  }

  async observe(names: readonly string[]): Promise<ObservedRecord[]> {
    this.failures.check("observe");
    const wanted = new Set(names.map(canonicalName));
    return this.state.filter((r) => wanted.has(r.name)).map((r) => ({ ...r }));
  }

  async apply(changes: DnsChanges): Promise<void> {
    this.failures.check("apply");
    const result = applyDnsChanges(this.state, { recordOf: (r) => r, make: (r) => ({ ...r }) }, changes, this.zone);
    if (!result.changed) return;
    this.state = result.entries;
    this.writes += 1;
  }

  async listOwned(): Promise<ObservedRecord[]> {
    this.failures.check("listOwned");
    return this.state.filter((r) => r.ownerMark !== undefined).map((r) => ({ ...r }));
  }
}
