// What the providers hold, as far as this controller knows: listed once per sync (as
// external-dns does), then kept up to date by this process's own writes, so a reconcile
// does not observe before every write. Only the leader writes, and it lists again at the
// start of every term, so the only other changes are by hand (drift) or by an agent dying:
// - every periodic resync lists again, which finds drift;
// - an error invalidates what the failed call touched, so the next reconcile observes;
// - a workload that is not running or has no address yet is always observed for real;
// - `invalidateWorkload` forces a real observe (the heartbeat sweep uses it for agents
//   that went silent).
// Misses are observed in batches across concurrent reconciles (observe-batcher.ts).
// The wrappers keep each provider's interface, so the reconciler does not know they exist.
import { applyDnsChanges } from "../providers/dns/apply-changes.js";
import { canonicalName } from "../providers/dns/record-rules.js";
import type { DnsChanges, DnsProvider, ObservedRecord } from "../providers/dns/types.js";
import { ownerMark, type Owner } from "../providers/owner.js";
import type { DesiredRoute, ObservedRoute, RouteProvider } from "../providers/routing/types.js";
import type { DesiredWorkload, ObservedWorkload, WorkloadProvider } from "../providers/workload/types.js";
import { ObserveBatcher } from "./observe-batcher.js";
import type { DnsTarget, Providers } from "./reconciler.js";

/**
 * Keyed knowledge: a key is present (value), known absent (`null`), or unknown. `complete`
 * means a listing covered everything, so unknown keys are absent unless marked `stale`.
 * A write bumps the key's version; an observe answer that raced a write is not stored.
 */
class Knowledge<V> {
  complete = false;
  private readonly values = new Map<string, V | null>();
  private readonly stale = new Set<string>();
  private readonly versions = new Map<string, number>();
  private refreshing: Set<string> | undefined;

  /** The value, `null` for known absent, `undefined` for unknown. */
  get(key: string): V | null | undefined {
    if (this.stale.has(key)) return undefined;
    const v = this.values.get(key);
    if (v !== undefined) return v;
    return this.complete ? null : undefined;
  }

  version(key: string): number {
    return this.versions.get(key) ?? 0;
  }

  /** Stores what an observe returned, unless a write to `key` happened since `version`. */
  observed(key: string, value: V | null, version: number): void {
    if (this.version(key) !== version) return;
    this.set(key, value);
    this.stale.delete(key);
  }

  /** Stores what this process just wrote. */
  wrote(key: string, value: V | null): void {
    this.bump(key);
    this.set(key, value);
    this.stale.delete(key);
  }

  /** Forgets `key`: the next read asks the provider. */
  invalidate(key: string): void {
    this.bump(key);
    this.values.delete(key);
    this.stale.add(key);
  }

  beginRefresh(): void {
    this.refreshing = new Set();
  }

  /** Replaces everything with a listing; keys written while it ran are observed again. */
  endRefresh(listing: Iterable<[string, V]> | undefined): void {
    const touched = this.refreshing ?? new Set<string>();
    this.refreshing = undefined;
    if (!listing) return;
    this.values.clear();
    this.stale.clear();
    for (const [k, v] of listing) this.values.set(k, v);
    for (const k of touched) this.stale.add(k);
    this.complete = true;
  }

  /** Drops everything and stops trusting absence (a listing is not possible). */
  reset(): void {
    this.values.clear();
    this.stale.clear();
    this.complete = false;
  }

  size(): number {
    return this.values.size;
  }

  private set(key: string, value: V | null): void {
    if (value === null && this.complete) this.values.delete(key);
    else this.values.set(key, value);
  }

  private bump(key: string): void {
    this.versions.set(key, this.version(key) + 1);
    this.refreshing?.add(key);
  }
}

export interface CachedProviders extends Providers {
  /** Lists every provider again (drift becomes visible); call at the start of a term and on resync. */
  refresh(): Promise<void>;
  /** The next observe of this owner's workload asks the provider. */
  invalidateWorkload(owner: Owner): void;
  /** Entries held, for the benchmark's memory figures. */
  size(): number;
}

export function cachedProviders(p: Providers): CachedProviders {
  const workload = new CachedWorkloads(p.workload);
  const dns = p.dns.map((t): DnsTarget & { cache: CachedDns } => {
    const cache = new CachedDns(t.provider);
    return { ...t, provider: cache, cache };
  });
  const routing = new CachedRoutes(p.routing);
  return {
    workload,
    dns,
    routing,
    async refresh() {
      await Promise.all([workload.refresh(), routing.refresh(), ...dns.map((t) => t.cache.refresh())]);
    },
    invalidateWorkload: (owner) => workload.invalidate(ownerMark(owner)),
    size: () => workload.size() + routing.size() + dns.reduce((n, t) => n + t.cache.size(), 0),
  };
}

/** Runs one refresh listing; on failure nothing is trusted beyond what this process wrote. */
async function refreshFrom<V>(k: Knowledge<V>, list: () => Promise<Iterable<[string, V]>>): Promise<void> {
  k.beginRefresh();
  let listing: Iterable<[string, V]> | undefined;
  try {
    listing = await list();
  } catch {
    // The provider is down: keep what we know (our own writes are still right) and observe
    // anything else for real; the next resync lists again.
    k.complete = false;
  }
  k.endRefresh(listing);
}

class CachedWorkloads implements WorkloadProvider {
  readonly name: string;
  private readonly k = new Knowledge<ObservedWorkload>();
  private readonly markOfId = new Map<string, string>();
  private readonly batcher: ObserveBatcher<Owner, ObservedWorkload>;

  constructor(private readonly inner: WorkloadProvider) {
    this.name = inner.name;
    this.batcher = new ObserveBatcher((owners) => inner.observe(owners));
  }

  async observe(owners: readonly Owner[]): Promise<ObservedWorkload[]> {
    const out: ObservedWorkload[] = [];
    const misses: { owner: Owner; mark: string; version: number }[] = [];
    for (const owner of owners) {
      const mark = ownerMark(owner);
      const v = this.k.get(mark);
      // A workload that is not running or has no address yet changes without us: ask.
      if (v === undefined || (v !== null && (!v.running || !v.ip))) misses.push({ owner, mark, version: this.k.version(mark) });
      else if (v !== null) out.push(v);
    }
    if (misses.length === 0) return out;
    const found = await this.batcher.request(misses.map((m) => m.owner));
    for (const m of misses) {
      const w = found.find((x) => x.ownerMark === m.mark);
      this.k.observed(m.mark, w ?? null, m.version);
      if (w) {
        this.markOfId.set(w.id, m.mark);
        out.push(w);
      }
    }
    return out;
  }

  create(desired: DesiredWorkload): Promise<ObservedWorkload> {
    return this.write(ownerMark(desired.owner), () => this.inner.create(desired));
  }

  start(id: string): Promise<ObservedWorkload> {
    return this.write(this.markOfId.get(id), () => this.inner.start(id));
  }

  update(id: string, desired: DesiredWorkload): Promise<ObservedWorkload> {
    return this.write(this.markOfId.get(id) ?? ownerMark(desired.owner), () => this.inner.update(id, desired));
  }

  async delete(id: string): Promise<void> {
    const mark = this.markOfId.get(id);
    try {
      await this.inner.delete(id);
    } catch (err) {
      if (mark) this.k.invalidate(mark);
      throw err;
    }
    this.markOfId.delete(id);
    if (mark) this.k.wrote(mark, null);
  }

  list(): Promise<ObservedWorkload[]> {
    return this.inner.list();
  }

  invalidate(mark: string): void {
    this.k.invalidate(mark);
  }

  size(): number {
    return this.k.size();
  }

  async refresh(): Promise<void> {
    await refreshFrom(this.k, async () => {
      const all = await this.inner.list();
      for (const w of all) this.markOfId.set(w.id, w.ownerMark);
      return all.map((w): [string, ObservedWorkload] => [w.ownerMark, w]);
    });
  }

  private async write(mark: string | undefined, call: () => Promise<ObservedWorkload>): Promise<ObservedWorkload> {
    let w: ObservedWorkload;
    try {
      w = await call();
    } catch (err) {
      if (mark) this.k.invalidate(mark);
      throw err;
    }
    this.markOfId.set(w.id, w.ownerMark);
    this.k.wrote(w.ownerMark, w);
    return w;
  }
}

class CachedDns implements DnsProvider {
  readonly name: string;
  private readonly k = new Knowledge<ObservedRecord[]>();
  private readonly batcher: ObserveBatcher<string, ObservedRecord>;

  constructor(private readonly inner: DnsProvider) {
    this.name = inner.name;
    this.batcher = new ObserveBatcher((names) => inner.observe(names));
  }

  async observe(names: readonly string[]): Promise<ObservedRecord[]> {
    const out: ObservedRecord[] = [];
    const misses: { name: string; version: number }[] = [];
    for (const name of new Set(names.map(canonicalName))) {
      const v = this.k.get(name);
      if (v === undefined) misses.push({ name, version: this.k.version(name) });
      else if (v !== null) out.push(...v);
    }
    if (misses.length === 0) return out;
    const found = await this.batcher.request(misses.map((m) => m.name));
    for (const m of misses) {
      const at = found.filter((r) => r.name === m.name);
      this.k.observed(m.name, at.length > 0 ? at : null, m.version);
      out.push(...at);
    }
    return out;
  }

  async apply(changes: DnsChanges): Promise<void> {
    const names = new Set([...changes.create, ...changes.delete, ...changes.update.flatMap((u) => [u.from, u.to])].map((r) => canonicalName(r.name)));
    try {
      await this.inner.apply(changes);
    } catch (err) {
      for (const n of names) this.k.invalidate(n);
      throw err;
    }
    // Replay the change on what we knew of these names, with the rules every list-backed
    // provider follows; if we did not know a name, or the replay disagrees, observe it next time.
    const before: ObservedRecord[] = [];
    for (const n of names) {
      const v = this.k.get(n);
      if (v === undefined) return void [...names].forEach((x) => this.k.invalidate(x));
      if (v !== null) before.push(...v);
    }
    let after: ObservedRecord[];
    try {
      after = applyDnsChanges(before, { recordOf: (r) => r, make: (r) => ({ ...r }) }, changes).entries;
    } catch {
      for (const n of names) this.k.invalidate(n);
      return;
    }
    for (const n of names) {
      const at = after.filter((r) => r.name === n);
      this.k.wrote(n, at.length > 0 ? at : null);
    }
  }

  listOwned(): Promise<ObservedRecord[]> {
    return this.inner.listOwned();
  }

  size(): number {
    return this.k.size();
  }

  async refresh(): Promise<void> {
    const listAll = this.inner.listAll?.bind(this.inner);
    if (!listAll) {
      // No cheap listing: every name is observed (in batches) once per sync.
      this.k.reset();
      return;
    }
    await refreshFrom(this.k, async () => {
      const byName = new Map<string, ObservedRecord[]>();
      for (const r of await listAll()) {
        const list = byName.get(r.name);
        if (list) list.push(r);
        else byName.set(r.name, [r]);
      }
      return byName;
    });
  }
}

class CachedRoutes implements RouteProvider {
  readonly name: string;
  private readonly k = new Knowledge<ObservedRoute>();
  private readonly batcher: ObserveBatcher<string, ObservedRoute>;

  constructor(private readonly inner: RouteProvider) {
    this.name = inner.name;
    this.batcher = new ObserveBatcher((names) => inner.observe(names));
  }

  async observe(names: readonly string[]): Promise<ObservedRoute[]> {
    const out: ObservedRoute[] = [];
    const misses: { name: string; version: number }[] = [];
    for (const name of new Set(names)) {
      const v = this.k.get(name);
      if (v === undefined) misses.push({ name, version: this.k.version(name) });
      else if (v !== null) out.push(v);
    }
    if (misses.length === 0) return out;
    const found = await this.batcher.request(misses.map((m) => m.name));
    for (const m of misses) {
      const r = found.find((x) => x.name === m.name);
      this.k.observed(m.name, r ?? null, m.version);
      if (r) out.push(r);
    }
    return out;
  }

  async apply(route: DesiredRoute): Promise<void> {
    try {
      await this.inner.apply(route);
    } catch (err) {
      this.k.invalidate(route.name);
      throw err;
    }
    this.k.wrote(route.name, { name: route.name, ownerMark: route.ownerMark, config: structuredClone(route.config) });
  }

  async delete(name: string): Promise<void> {
    try {
      await this.inner.delete(name);
    } catch (err) {
      this.k.invalidate(name);
      throw err;
    }
    this.k.wrote(name, null);
  }

  list(): Promise<ObservedRoute[]> {
    return this.inner.list();
  }

  size(): number {
    return this.k.size();
  }

  async refresh(): Promise<void> {
    // list() holds every route with an owner mark; a hand-written file at one of our names
    // is not in it, and the provider refuses to overwrite it (a Conflict the reconciler shows).
    await refreshFrom(this.k, async () => (await this.inner.list()).map((r): [string, ObservedRoute] => [r.name, r]));
  }
}
