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
  for (const r of await providers.routing.list()) {
    if (!orphaned(r.ownerMark)) continue;
    await providers.routing.delete(r.name);
    report.routes.push(r.name);
  }
  const records = (await providers.dns.listOwned()).filter((r) => orphaned(r.ownerMark));
  if (records.length > 0) {
    await providers.dns.apply({ create: [], update: [], delete: records });
    report.records.push(...records.map((r) => `${r.type} ${r.name}`));
  }
  for (const w of await providers.workload.list()) {
    if (!orphaned(w.ownerMark)) continue;
    await providers.workload.delete(w.id);
    report.workloads.push(w.id);
  }
  if (report.routes.length + report.records.length + report.workloads.length > 0) logger.info(report, "garbage collected");
  return report;
}
