// DNS records on any RFC 2136 server (BIND, Knot, PowerDNS) by dynamic UPDATE signed with
// TSIG. Plain DNS has no comment field, so ownership lives in a TXT registry per name, as
// external-dns does: `_zlh-owner.<name>` holds one TXT string per record zlh wrote there,
// `zerolaghub.dev/owner=<mark> <TYPE> <value>`. Records without such an entry are foreign.
// Every UPDATE carries prerequisites stating the RRsets exactly as observed (RFC 2136
// §2.4), so a record added or changed by hand in between makes the server refuse the
// whole update instead of zlh overwriting it; the provider then observes again and retries.
import type { Logger } from "pino";
import { realClock, type Clock } from "../../engine/clock.js";
import { parseOwnerMark } from "../owner.js";
import { ProviderError } from "../provider-error.js";
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from "../retry.js";
import { applyDnsChanges } from "./apply-changes.js";
import { describeServer, type DnsServer } from "./dns-transport.js";
import { recordFromWire, registryEntry, registryName, toWireData, type NameState, type ZoneRecord } from "./rfc2136-records.js";
import { DnsRcodeError, queryMessage, signedExchange, updateMessage, zoneTransfer, type Endpoint, type UpdateOp, type WireRecord } from "./rfc2136-wire.js";
import { diffRecords } from "./record-diff.js";
import { canonicalName, canonicalRecord, describeRecord, recordProblem, RECORD_TYPES } from "./record-rules.js";
import type { TsigKey } from "./tsig.js";
import type { DesiredRecord, DnsChanges, DnsProvider, ObservedRecord, RecordType } from "./types.js";

export interface Rfc2136Options {
  server: DnsServer;
  zone: string;
  /** The key, or a function giving it (read per call, so a rotated secret file is used). */
  key: TsigKey | (() => TsigKey);
  timeoutMs?: number;
  clock?: Clock;
  /** Wall-clock milliseconds for TSIG's time signed (default Date.now). */
  now?: () => number;
  retry?: Partial<RetryPolicy>;
  random?: () => number;
  logger?: Logger;
}

/** How often an update refused for a changed zone is re-observed and retried. */
const PREREQUISITE_TRIES = 3;

export class Rfc2136DnsProvider implements DnsProvider {
  readonly name = "rfc2136";
  private readonly zone: string;
  private readonly server: DnsServer;
  private readonly key: () => TsigKey;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly policy: RetryPolicy;
  private readonly random?: () => number;
  private readonly logger?: Logger;

  constructor(o: Rfc2136Options) {
    this.zone = canonicalName(o.zone);
    this.server = o.server;
    const key = o.key;
    this.key = typeof key === "function" ? key : () => key;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.clock = o.clock ?? realClock;
    this.now = o.now ?? Date.now;
    this.policy = { ...DEFAULT_RETRY, ...o.retry };
    this.random = o.random;
    this.logger = o.logger?.child({ provider: "dns/rfc2136" });
  }

  async observe(names: readonly string[]): Promise<ObservedRecord[]> {
    const states = await this.readNames(names.map(canonicalName));
    return states.flatMap((s) => s.records.map((r) => r.observed));
  }

  async listAll(): Promise<ObservedRecord[]> {
    return (await this.readZone()).flatMap((s) => s.records.map((r) => r.observed));
  }

  async listOwned(): Promise<ObservedRecord[]> {
    return (await this.listAll()).filter((r) => r.ownerMark !== undefined);
  }

  async apply(changes: DnsChanges): Promise<void> {
    for (const r of [...changes.create, ...changes.update.map((u) => u.to)]) {
      const problem = recordProblem(canonicalRecord(r), this.zone);
      if (problem) throw new ProviderError("Invalid", `record ${describeRecord(canonicalRecord(r))}: ${problem}`);
      if (registryName(canonicalName(r.name)).length > 253) throw new ProviderError("Invalid", `record ${describeRecord(r)}: name too long for its ownership record`);
    }
    const names = [...new Set([...changes.create, ...changes.delete, ...changes.update.flatMap((u) => [u.from, u.to])].map((r) => canonicalName(r.name)))];
    for (let attempt = 1; ; attempt++) {
      const states = await this.readNames(names);
      const current = states.flatMap((s) => s.records.map((r) => r.observed));
      const result = applyDnsChanges(current, { recordOf: (r) => r, make: (r) => ({ ...r }) }, changes, this.zone, { exclusiveRRsets: true });
      if (!result.changed) return;
      const ops = diffRecords(current, result.entries as DesiredRecord[], changes);
      try {
        await this.sendUpdate(states, ops);
        return;
      } catch (err) {
        if (!(err instanceof DnsRcodeError) || err.reason !== "Conflict" || attempt >= PREREQUISITE_TRIES) throw err;
        this.logger?.info({ op: "apply", attempt, rcode: err.rcode }, "zone changed since observed; observing again");
      }
    }
  }

  private endpoint(): Endpoint {
    return { server: this.server, key: this.key(), timeoutMs: this.timeoutMs, nowSeconds: () => Math.floor(this.now() / 1000) };
  }

  private async call<T>(op: string, run: (ep: Endpoint) => Promise<T>): Promise<T> {
    const ep = this.endpoint();
    return withRetries(
      {
        clock: this.clock,
        policy: this.policy,
        random: this.random,
        onFailure: (err, attempt, willRetry) =>
          this.logger?.warn({ provider: "dns/rfc2136", op, server: describeServer(this.server), attempt, willRetry, reason: err.reason, err: err.message }, "provider call failed"),
      },
      () => run(ep),
    );
  }

  // Queries each name's managed types and its registry, in parallel (one UDP round trip each).
  private async readNames(names: readonly string[]): Promise<NameState[]> {
    const inZone = [...new Set(names)].filter((n) => n === this.zone || n.endsWith(`.${this.zone}`));
    return Promise.all(
      inZone.map(async (name) => {
        const ask = (qname: string, type: RecordType) =>
          this.call("observe", async (ep) => {
            const answer = await signedExchange(ep, `query ${qname} ${type} at ${describeServer(this.server)}`, queryMessage(qname, type));
            return (answer.answers ?? []).filter((rr) => canonicalName(rr.name) === qname && rr.type === type) as WireRecord[];
          });
        const [registry, ...sets] = await Promise.all([ask(registryName(name), "TXT"), ...RECORD_TYPES.map((t) => ask(name, t))]);
        return buildState(name, sets.flat(), registry);
      }),
    );
  }

  private async readZone(): Promise<NameState[]> {
    const all = await this.call("list", (ep) => zoneTransfer(ep, this.zone));
    const byName = new Map<string, typeof all>();
    for (const rr of all) {
      const n = canonicalName(rr.name);
      byName.set(n, [...(byName.get(n) ?? []), rr]);
    }
    const states: NameState[] = [];
    for (const [name, rrs] of byName) {
      if (name.startsWith("_zlh-owner.") || name.startsWith("_zlh-owner-wildcard.")) continue;
      const registry = byName.get(registryName(name))?.filter((rr) => rr.type === "TXT") ?? [];
      states.push(buildState(name, rrs, registry));
    }
    return states;
  }

  private async sendUpdate(states: NameState[], ops: ReturnType<typeof diffRecords>): Promise<void> {
    const prerequisites: UpdateOp[] = [];
    for (const s of states) {
      for (const type of RECORD_TYPES) {
        const set = s.records.filter((r) => r.observed.type === type).map((r) => r.data);
        prerequisites.push(set.length ? { kind: "rrsetIs", name: s.name, type, records: set } : { kind: "rrsetAbsent", name: s.name, type });
      }
      const reg = registryName(s.name);
      prerequisites.push(s.registry.length ? { kind: "rrsetIs", name: reg, type: "TXT", records: s.registry.map((e) => e.data) } : { kind: "rrsetAbsent", name: reg, type: "TXT" });
    }
    const state = (name: string) => states.find((s) => s.name === canonicalName(name))!;
    const updates: UpdateOp[] = [];
    const remove = (r: ObservedRecord) => {
      const at = state(r.name).records.find((x) => x.observed.type === r.type && x.observed.value === r.value)!;
      updates.push({ kind: "delete", name: at.observed.name, type: r.type, data: at.data });
      dropRegistry(state(r.name), r, updates);
    };
    const add = (r: DesiredRecord) => {
      const c = canonicalRecord(r);
      dropRegistry(state(c.name), c, updates);
      updates.push({ kind: "add", name: c.name, type: c.type, ttl: c.ttl, data: toWireData(c) });
      updates.push({ kind: "add", name: registryName(c.name), type: "TXT", ttl: c.ttl, data: registryEntry(c) });
    };
    for (const r of ops.delete) remove(r);
    for (const u of ops.update) {
      remove(u.from);
      add(u.to);
    }
    for (const r of ops.create) add(r);
    await this.call("apply", (ep) => signedExchange(ep, `update of ${this.zone} at ${describeServer(this.server)}`, updateMessage(this.zone, prerequisites, dedupe(updates))));
    this.logger?.info({ zone: this.zone, deleted: ops.delete.length, updated: ops.update.length, created: ops.create.length }, "records updated");
  }
}

// Registry entries naming this RR (any owner, including stale ones left by hand-deleted records).
function dropRegistry(s: NameState, r: { type: string; value: string }, updates: UpdateOp[]): void {
  for (const e of s.registry) if (e.type === r.type && e.value === r.value) updates.push({ kind: "delete", name: registryName(s.name), type: "TXT", data: e.data });
}

// The same registry entry may be dropped twice (an update's remove and add): send it once.
function dedupe(updates: UpdateOp[]): UpdateOp[] {
  const seen = new Set<string>();
  return updates.filter((u) => {
    const key = JSON.stringify(u, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString("hex") : v));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function buildState(name: string, rrs: readonly { name: string; type: string; ttl?: number; data?: unknown }[], registry: readonly { data?: unknown }[]): NameState {
  const entries = registry.map((rr) => ({ data: rr.data, ...parseRegistryData(rr.data) }));
  const records: ZoneRecord[] = [];
  for (const rr of rrs) {
    const observed = recordFromWire(name, rr);
    if (!observed) continue;
    const entry = entries.find((e) => e.mark !== undefined && e.type === observed.type && e.value === observed.value);
    if (entry?.mark) observed.ownerMark = entry.mark;
    records.push({ observed, data: rr.data });
  }
  return { name, records, registry: entries.filter((e) => e.type !== undefined) as NameState["registry"] };
}

function parseRegistryData(data: unknown): { mark?: string; type?: string; value?: string } {
  const text = Array.isArray(data) ? Buffer.concat(data.map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(String(d))))).toString("utf8") : "";
  const m = /^zerolaghub\.dev\/owner=(\S+) (A|AAAA|CNAME|TXT|SRV) ([\s\S]*)$/.exec(text);
  if (!m) return {};
  return { ...(parseOwnerMark(m[1]!) ? { mark: m[1]! } : {}), type: m[2]!, value: m[3]! };
}
