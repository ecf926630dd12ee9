// One run of a Sync: fetch the source → load and validate every file → apply all of the
// revision or nothing → prune → record health, counts, errors and the inventory in status.
import { join, resolve, sep } from "node:path";
import type { Logger } from "pino";
import type { Sync, SyncStatus } from "../../../schemas/generated/types.js";
import type { Clock } from "../engine/clock.js";
import type { ZlhResource } from "../plan/resource.js";
import type { EventRecorder } from "../resources/event-recorder.js";
import { applyRevision, type ApplyOutcome, type ObjectApi } from "./apply.js";
import { FALSE, TRUE, withConditions, type ConditionValue } from "./conditions.js";
import { formatFileError, loadRevision } from "./revision.js";

/** Where a revision's files are: a folder, and (for git) the commit it holds. */
export interface FetchedSource {
  dir: string;
  revision?: string;
}

export interface SyncApi {
  get(namespace: string, name: string): Promise<Sync | undefined>;
  replaceStatus(sync: Sync, status: SyncStatus): Promise<void>;
}

export interface SyncReconcilerDeps {
  objects: ObjectApi;
  syncs: SyncApi;
  /** Brings the source's files onto this machine (git: fetch and check out; path: as is). */
  fetch(sync: Sync): Promise<FetchedSource>;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
}

export interface SyncRunResult {
  /** Health still progressing: look again soon rather than at the next interval. */
  progressing: boolean;
}

const short = (rev: string) => rev.replace(/^(sha256:)?([0-9a-f]{12})[0-9a-f]+$/, "$1$2");

/** `spec.path` inside the source; `..` may not climb out of it. */
export function pathInSource(root: string, path: string | undefined): string {
  const dir = resolve(root, path ?? ".");
  if (dir !== resolve(root) && !dir.startsWith(resolve(root) + sep)) throw new Error(`spec.path ${JSON.stringify(path)} leaves the source`);
  return dir;
}

export function makeSyncReconciler(d: SyncReconcilerDeps): (namespace: string, name: string) => Promise<SyncRunResult | undefined> {
  const event = (sync: Sync, type: "Normal" | "Warning", reason: string, message: string) =>
    d.events.record(sync as unknown as ZlhResource, type, reason, message);

  const writeStatus = async (sync: Sync, next: Omit<SyncStatus, "conditions">, c: { ready: ConditionValue; reconciling: ConditionValue; stalled: ConditionValue }) => {
    const now = new Date(d.clock.now()).toISOString();
    const conditions = withConditions(sync.status?.conditions, now, sync.metadata.generation, { Ready: c.ready, Reconciling: c.reconciling, Stalled: c.stalled });
    const status: SyncStatus = { ...next, observedGeneration: sync.metadata.generation, conditions };
    if (JSON.stringify(status) !== JSON.stringify(sync.status)) await d.syncs.replaceStatus(sync, status);
  };

  return async (namespace, name) => {
    const sync = await d.syncs.get(namespace, name);
    if (!sync || sync.metadata.deletionTimestamp) return undefined;
    if (sync.spec.suspend) return undefined;
    const prev = sync.status ?? {};
    const kept = { lastAppliedRevision: prev.lastAppliedRevision, lastAppliedTime: prev.lastAppliedTime, inventory: prev.inventory ?? [] };
    const log = d.logger.child({ sync: `${namespace}/${name}` });

    let source: FetchedSource;
    let dir: string;
    try {
      source = await d.fetch(sync);
      dir = pathInSource(source.dir, sync.spec.path);
    } catch (err) {
      const message = `source: ${(err as Error).message}`;
      log.warn({ err: message }, "sync source failed");
      await writeStatus(sync, { ...kept, lastAttemptedRevision: prev.lastAttemptedRevision, counts: prev.counts, errors: [{ file: ".", message }] }, {
        ready: FALSE("SourceFailed", message), reconciling: FALSE("SourceFailed"), stalled: FALSE("SourceFailed"),
      });
      event(sync, "Warning", "SourceFailed", message);
      return { progressing: false };
    }

    const loaded = loadRevision(dir, namespace, sync.spec.targetNamespace, source.revision);
    if (loaded.errors.length > 0) {
      const message = `revision ${short(loaded.revision)} is invalid, nothing from it was applied: ${loaded.errors.slice(0, 3).map(formatFileError).join("; ")}${loaded.errors.length > 3 ? ` (and ${loaded.errors.length - 3} more)` : ""}`;
      log.warn({ revision: loaded.revision, errors: loaded.errors.length }, "sync revision invalid");
      await writeStatus(sync, { ...kept, lastAttemptedRevision: loaded.revision, counts: { applied: 0, unchanged: 0, pruned: 0, failed: loaded.errors.length }, errors: loaded.errors }, {
        ready: FALSE("ValidationFailed", message), reconciling: FALSE("ValidationFailed"), stalled: TRUE("ValidationFailed", message),
      });
      if (prev.lastAttemptedRevision !== loaded.revision) event(sync, "Warning", "ValidationFailed", message);
      return { progressing: false };
    }

    const out: ApplyOutcome = await applyRevision(d.objects, {
      sync: { namespace, name },
      root: dir,
      manifests: loaded.manifests,
      previous: kept.inventory,
      prune: sync.spec.prune !== false,
    });
    const newRevision = prev.lastAppliedRevision !== loaded.revision;
    recordEvents(sync, out, newRevision, loaded.revision, event);
    log.info({ revision: loaded.revision, ...out.counts }, "sync applied");
    const failed = out.counts.failed > 0;
    const notReady = out.inventory.filter((e) => e.ready !== "True").length;
    const ok = failed ? undefined : { lastAppliedRevision: loaded.revision, lastAppliedTime: newRevision || !prev.lastAppliedTime ? new Date(d.clock.now()).toISOString() : prev.lastAppliedTime };
    const health = `${out.inventory.length - notReady}/${out.inventory.length} ready`;
    const ready: ConditionValue = failed
      ? FALSE("ApplyFailed", `revision ${short(loaded.revision)}: ${out.errors.slice(0, 3).map(formatFileError).join("; ")}`)
      : notReady > 0
        ? { status: "Unknown", reason: "Progressing", message: `Applied revision ${short(loaded.revision)}; ${health}` }
        : TRUE("ReconciliationSucceeded", `Applied revision ${short(loaded.revision)}; ${health}`);
    await writeStatus(sync, { ...kept, ...ok, lastAttemptedRevision: loaded.revision, counts: out.counts, errors: out.errors, inventory: out.inventory }, {
      ready,
      reconciling: notReady > 0 && !failed ? TRUE("Progressing", health) : FALSE(failed ? "ApplyFailed" : "ReconciliationSucceeded"),
      stalled: FALSE(failed ? "ApplyFailed" : "ReconciliationSucceeded"),
    });
    return { progressing: notReady > 0 && !failed };
  };
}

function recordEvents(sync: Sync, out: ApplyOutcome, newRevision: boolean, revision: string, event: (s: Sync, t: "Normal" | "Warning", r: string, m: string) => void): void {
  // The same revision applied again and something had to change: it was edited or deleted by hand.
  if (!newRevision && (out.corrected.length > 0 || out.created.length > 0)) {
    event(sync, "Normal", "DriftCorrected", `put back to revision ${short(revision)}: ${[...out.corrected, ...out.created.map((c) => `${c} (recreated)`)].join(", ")}`);
  } else if (newRevision) {
    event(sync, "Normal", "Applied", `revision ${short(revision)}: ${out.counts.applied} applied, ${out.counts.unchanged} unchanged, ${out.counts.pruned} pruned`);
  }
  if (out.pruned.length > 0) event(sync, "Normal", "Pruned", `no longer in revision ${short(revision)}: ${out.pruned.join(", ")}`);
  if (out.errors.length > 0) event(sync, "Warning", "ApplyFailed", out.errors.map(formatFileError).join("; "));
}

/** Where the files of a `source.path` Sync are. */
export function pathSourceDir(sync: Sync): string {
  return join(sync.spec.source.path ?? "/");
}
