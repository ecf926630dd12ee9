// Turns "the records at these names now" and "what they must be after apply-changes.ts" into
// the API calls a record-at-a-time backend (Technitium, Cloudflare) needs: deletes, in-place
// updates (the pairs the caller asked to update, or a TTL/owner change of the same RR), then
// creates — the order apply-changes.ts defines.
import { canonicalRecord, sameRR } from "./record-rules.js";
import type { DesiredRecord, DnsChanges, ObservedRecord } from "./types.js";

export interface RecordOps {
  delete: ObservedRecord[];
  update: { from: ObservedRecord; to: DesiredRecord }[];
  create: DesiredRecord[];
}

export function diffRecords(current: readonly ObservedRecord[], next: readonly DesiredRecord[], changes: DnsChanges): RecordOps {
  const ops: RecordOps = { delete: [], update: [], create: [] };
  const gone = current.filter((c) => !next.some((n) => sameRR(n, c)));
  const added = next.filter((n) => !current.some((c) => sameRR(n, c)));
  for (const c of current) {
    const n = next.find((x) => sameRR(x, c));
    if (n && (n.ttl !== c.ttl || n.ownerMark !== c.ownerMark)) ops.update.push({ from: c, to: n });
  }
  for (const u of changes.update) {
    const from = canonicalRecord(u.from);
    const to = canonicalRecord(u.to);
    const g = gone.findIndex((x) => sameRR(x, from) && x.ownerMark === from.ownerMark);
    const a = added.findIndex((x) => sameRR(x, to));
    if (g < 0 || a < 0) continue;
    ops.update.push({ from: gone[g]!, to: added[a]! });
    gone.splice(g, 1);
    added.splice(a, 1);
  }
  ops.delete.push(...gone);
  ops.create.push(...added);
  return ops;
}
