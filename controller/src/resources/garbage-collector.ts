// Deletes provider objects whose owner no longer exists (e.g. the resource was removed
// with its finalizer stripped by hand). Runs only on a synced cache: an empty cache
// before the first list would otherwise look like "every owner is gone".
import type { Logger } from "pino";
import { parseOwnerMark, type Owner } from "../providers/owner.js";
import type { Providers } from "./reconciler.js";

export interface GarbageReport {
  routes: string[];
  records: string[];
  workloads: string[];
}

export async function collectGarbage(providers: Providers, ownerExists: (o: Owner) => boolean, logger: Logger): Promise<GarbageReport> {
  const orphaned = (mark: string | undefined) => {
    const owner = mark ? parseOwnerMark(mark) : undefined;
    return owner !== undefined && !ownerExists(owner);
  };
  const report: GarbageReport = { routes: [], records: [], workloads: [] };
  // Each delete re-checks the mark just before acting: the owner may have been re-created
  // under the same name since the listing, and its new objects must survive.
  for (const r of await providers.routing.list()) {
    if (!orphaned(r.ownerMark)) continue;
    if ((await providers.routing.observe([r.name]))[0]?.ownerMark !== r.ownerMark) continue;
    await providers.routing.delete(r.name);
    report.routes.push(r.name);
  }
  for (const { provider } of providers.dns) {
    const records = (await provider.listOwned()).filter((r) => orphaned(r.ownerMark));
    if (records.length > 0) {
      await provider.apply({ create: [], update: [], delete: records });
      report.records.push(...records.map((r) => `${r.type} ${r.name}${providers.dns.length > 1 ? ` (${provider.name})` : ""}`));
    }
  }
  for (const w of await providers.workload.list()) {
    if (!orphaned(w.ownerMark)) continue;
    const again = (await providers.workload.observe([parseOwnerMark(w.ownerMark)!]))[0];
    if (again?.id !== w.id) continue;
    await providers.workload.delete(w.id);
    report.workloads.push(w.id);
  }
  // DNS deletes match the owner mark itself (see providers/dns/apply-changes.ts), so a
  // re-created owner's records are never among them.
  if (report.routes.length + report.records.length + report.workloads.length > 0) logger.info(report, "garbage collected");
  return report;
}
