// Deletes provider objects whose owner no longer exists (e.g. the resource was removed
// with its finalizer stripped by hand). Runs only on a synced cache: an empty cache
// before the first list would otherwise look like "every owner is gone". One sweep removes
// at most `limit` objects (a bug that made every owner look gone must not wipe a fleet in
// one go; the rest waits for the next sweep), says what it removed in an event on the
// owner and in metrics, and `dryRun` only reports (`zlh gc --dry-run`).
import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "pino";
import { ownerMark, parseOwnerMark, type Owner } from "../providers/owner.js";
import type { ObservedRecord } from "../providers/dns/types.js";
import type { ZlhResource } from "../plan/resource.js";
import type { EventRecorder } from "./event-recorder.js";
import type { Providers } from "./reconciler.js";

export interface GarbageReport {
  routes: string[];
  records: string[];
  workloads: string[];
  /** Orphans found but left for the next sweep because of the limit. */
  deferred: number;
}

export interface GcMetrics {
  removed: Counter<"object">;
  deferred: Gauge;
}

export interface GarbageOptions {
  /** Most objects removed (or, with dryRun, listed as removable) per sweep. Default unlimited. */
  limit?: number;
  /** Report what would be removed, change nothing. */
  dryRun?: boolean;
  events?: EventRecorder;
  metrics?: GcMetrics;
}

export function gcMetrics(registry: Registry): GcMetrics {
  return {
    removed: new Counter({ name: "zlh_gc_removed_total", help: "Provider objects removed by garbage collection, by object (route, record, workload).", labelNames: ["object"] as const, registers: [registry] }),
    deferred: new Gauge({ name: "zlh_gc_deferred", help: "Orphaned provider objects the last sweep left for the next one (over its limit).", registers: [registry] }),
  };
}

/** A stand-in for the deleted owner, so its events land where `zlh describe` looks. */
function ownerObject(o: Owner): ZlhResource {
  return { apiVersion: "zerolaghub.dev/v1alpha1", kind: o.kind, metadata: { name: o.name, namespace: o.namespace, uid: o.uid } } as ZlhResource;
}

export async function collectGarbage(providers: Providers, ownerExists: (o: Owner) => boolean, logger: Logger, options: GarbageOptions = {}): Promise<GarbageReport> {
  const orphanOf = (mark: string | undefined): Owner | undefined => {
    const owner = mark ? parseOwnerMark(mark) : undefined;
    return owner !== undefined && !ownerExists(owner) ? owner : undefined;
  };
  const report: GarbageReport = { routes: [], records: [], workloads: [], deferred: 0 };
  let budget = options.limit ?? Number.POSITIVE_INFINITY;
  const take = (): boolean => {
    if (budget <= 0) {
      report.deferred++;
      return false;
    }
    budget--;
    return true;
  };
  const removed = (what: "route" | "record" | "workload", text: string, owner: Owner) => {
    if (options.dryRun) return;
    options.metrics?.removed.inc({ object: what });
    options.events?.record(ownerObject(owner), "Normal", "GarbageCollected", `removed orphaned ${what} ${text} (its owner ${ownerMark(owner)} no longer exists)`);
  };

  // Each delete re-checks the mark just before acting: the owner may have been re-created
  // under the same name since the listing, and its new objects must survive.
  for (const r of await providers.routing.list()) {
    const owner = orphanOf(r.ownerMark);
    if (!owner || !take()) continue;
    if (!options.dryRun) {
      if ((await providers.routing.observe([r.name]))[0]?.ownerMark !== r.ownerMark) continue;
      await providers.routing.delete(r.name);
    }
    report.routes.push(r.name);
    removed("route", r.name, owner);
  }
  for (const { provider } of providers.dns) {
    const where = providers.dns.length > 1 ? ` (${provider.name})` : "";
    const byOwner = new Map<string, { owner: Owner; records: ObservedRecord[] }>();
    for (const r of await provider.listOwned()) {
      const owner = orphanOf(r.ownerMark);
      if (!owner) continue;
      const entry = byOwner.get(r.ownerMark!) ?? { owner, records: [] };
      entry.records.push(r);
      byOwner.set(r.ownerMark!, entry);
    }
    const batch: ObservedRecord[] = [];
    const done: { owner: Owner; text: string }[] = [];
    for (const { owner, records } of byOwner.values()) {
      const kept = records.filter(() => take());
      if (kept.length === 0) continue;
      batch.push(...kept);
      done.push({ owner, text: kept.map((r) => `${r.type} ${r.name}`).join(", ") + where });
    }
    // DNS deletes match the owner mark itself (see providers/dns/apply-changes.ts), so a
    // re-created owner's records are never among them.
    if (batch.length > 0 && !options.dryRun) await provider.apply({ create: [], update: [], delete: batch });
    report.records.push(...batch.map((r) => `${r.type} ${r.name}${where}`));
    for (const d of done) removed("record", d.text, d.owner);
  }
  for (const w of await providers.workload.list()) {
    const owner = orphanOf(w.ownerMark);
    if (!owner || !take()) continue;
    if (!options.dryRun) {
      const again = (await providers.workload.observe([owner]))[0];
      if (again?.id !== w.id) continue;
      await providers.workload.delete(w.id);
    }
    report.workloads.push(w.id);
    removed("workload", w.id, owner);
  }
  options.metrics?.deferred.set(report.deferred);
  const found = report.routes.length + report.records.length + report.workloads.length;
  if (found > 0 || report.deferred > 0) logger.info({ ...report, dryRun: options.dryRun ?? false }, options.dryRun ? "garbage found" : "garbage collected");
  return report;
}
