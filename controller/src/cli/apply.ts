// `zlh apply`: validate every document first, then create or update each one, keeping
// whatever status the controller has written.
import { parseDuration } from "./ages.js";
import { CliError } from "./cli-error.js";
import { printBlock, type CliIO } from "./cli-io.js";
import { connect, defaultNamespace, type ConnectionOptions } from "./connection.js";
import { kindInfo, resourceRef } from "./kinds.js";
import { formatManifestError } from "./manifest-error.js";
import { formatSkipped, loadManifests, type LoadedManifest } from "./manifest-loader.js";
import { ResourceClient } from "./resource-client.js";
import { jsonChanges } from "./spec-diff.js";
import type { ResourceObject } from "./resource-rows.js";
import { waitForRunning } from "./wait.js";

export interface ApplyOptions extends ConnectionOptions {
  filename: string[];
  recursive?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  timeout?: string;
}

export type ApplyOutcome = "created" | "configured" | "unchanged";

interface Applied {
  outcome: ApplyOutcome;
  /** With --dry-run: what an update would change (see spec-diff.ts). */
  changes?: string[];
}

const MAX_CONFLICT_RETRIES = 5;

/** JSON equality with key order ignored: what the server stores is JSON. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function mergedMap(existing: Record<string, string> | undefined, desired: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!existing && !desired) return undefined;
  return { ...existing, ...desired };
}

/**
 * The object to PUT: the manifest's spec replaces the stored one entirely (so removing a
 * field in the file removes it on the server); labels and annotations are merged, since
 * other writers (GitOps inventory, controller) add their own and the file cannot say
 * which keys it previously owned.
 */
export function desiredUpdate(existing: ResourceObject, manifest: LoadedManifest): ResourceObject {
  const want = manifest.object.metadata;
  return {
    ...existing,
    metadata: {
      ...existing.metadata,
      labels: mergedMap(existing.metadata?.labels, want.labels),
      annotations: mergedMap(existing.metadata?.annotations, want.annotations),
    },
    spec: manifest.object.spec,
  };
}

function needsUpdate(existing: ResourceObject, desired: ResourceObject): boolean {
  return (
    !sameJson(existing.spec, desired.spec) ||
    !sameJson(existing.metadata?.labels ?? {}, desired.metadata?.labels ?? {}) ||
    !sameJson(existing.metadata?.annotations ?? {}, desired.metadata?.annotations ?? {})
  );
}

function dryRunChanges(existing: ResourceObject, desired: ResourceObject): string[] {
  return [
    ...jsonChanges("metadata.labels", existing.metadata?.labels ?? {}, desired.metadata?.labels ?? {}),
    ...jsonChanges("metadata.annotations", existing.metadata?.annotations ?? {}, desired.metadata?.annotations ?? {}),
    ...jsonChanges("spec", existing.spec, desired.spec),
  ];
}

async function applyOne(client: ResourceClient, m: LoadedManifest, dryRun: boolean): Promise<Applied> {
  const info = kindInfo(m.kind);
  const ref = resourceRef(m.kind, m.name);
  for (let attempt = 0; ; attempt++) {
    const existing = await client.get(info, m.namespace, m.name, ref);
    try {
      if (!existing) {
        if (!dryRun) await client.create(info, m.namespace, m.object, ref);
        return { outcome: "created" };
      }
      const desired = desiredUpdate(existing, m);
      if (!needsUpdate(existing, desired)) return { outcome: "unchanged" };
      if (dryRun) return { outcome: "configured", changes: dryRunChanges(existing, desired) };
      const updated = await client.replace(info, m.namespace, m.name, desired, ref);
      // The server may default fields we left out; an unchanged resourceVersion means nothing really changed.
      return { outcome: updated.metadata?.resourceVersion === existing.metadata?.resourceVersion ? "unchanged" : "configured" };
    } catch (e) {
      // Someone created or updated it between our read and write: read again and redo.
      if (e instanceof CliError && e.reason === "Conflict" && attempt < MAX_CONFLICT_RETRIES) continue;
      throw e;
    }
  }
}

export async function applyCommand(io: CliIO, opts: ApplyOptions): Promise<number> {
  const timeoutMs = parseDuration(opts.timeout ?? "5m");
  const loaded = loadManifests(opts.filename, {
    recursive: opts.recursive,
    defaultNamespace: defaultNamespace(opts, io.env),
    validate: true,
  });
  if (!loaded.ok) {
    for (const e of loaded.errors) io.err(formatManifestError(e));
    io.err(`nothing applied: ${loaded.errors.length} error${loaded.errors.length === 1 ? "" : "s"}`);
    return 1;
  }
  for (const note of loaded.skipped) io.err(formatSkipped(note));
  const client = new ResourceClient(connect(opts, io.env));
  let failed = 0;
  const applied: LoadedManifest[] = [];
  for (const m of loaded.manifests) {
    try {
      const { outcome, changes } = await applyOne(client, m, opts.dryRun ?? false);
      io.out(`${resourceRef(m.kind, m.name)} ${outcome}${opts.dryRun ? " (dry run)" : ""}`);
      for (const line of changes ?? []) io.out(`  ${line}`);
      applied.push(m);
    } catch (e) {
      // A refused object must not stop the others (they were all valid locally), but an
      // unreachable server or a bug ends the run.
      if (!(e instanceof CliError) || e.reason === "NoServer" || e.reason === "Unauthorized") throw e;
      printBlock(io.err, e.message);
      failed++;
    }
  }
  if (opts.wait && !opts.dryRun && failed === 0) {
    await waitForRunning(client, applied, timeoutMs, io);
  }
  return failed > 0 ? 1 : 0;
}
