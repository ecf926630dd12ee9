// Applying one validated revision: create what is missing, put back what differs from the
// files (drift: spec, labels and annotations; status is the controller's and never
// compared), and prune what the previous inventory held and this revision does not.
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { relative } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { SyncFileError, SyncInventoryEntry } from "../../../schemas/generated/types.js";
import type { LoadedManifest, ZlhObject } from "../cli/manifest-loader.js";
import { GROUP, VERSION, pluralOf, type ResourceKind } from "../plan/resource.js";
import { httpStatusOf } from "../resources/api-client.js";
import { entryKey, inventoryLabels, ownerSync, type SyncRef } from "./inventory.js";

export interface ApplyOutcome {
  counts: { applied: number; unchanged: number; pruned: number; failed: number };
  inventory: SyncInventoryEntry[];
  errors: SyncFileError[];
  /** Objects that existed but differed from the revision (edited by hand, or the revision changed them). */
  corrected: string[];
  created: string[];
  pruned: string[];
}

type Live = ZlhObject & { metadata: ZlhObject["metadata"] & { resourceVersion?: string; finalizers?: string[] } };

export interface ObjectApi {
  get(kind: ResourceKind, namespace: string, name: string): Promise<Live | undefined>;
  create(obj: ZlhObject): Promise<void>;
  replace(obj: Live): Promise<void>;
  delete(kind: ResourceKind, namespace: string, name: string): Promise<void>;
}

export function apiObjects(kc: KubeConfig): ObjectApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  const at = (kind: ResourceKind, namespace: string) => ({ group: GROUP, version: VERSION, namespace, plural: pluralOf(kind) });
  return {
    async get(kind, namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...at(kind, namespace), name })) as Live;
      } catch (err) {
        if (httpStatusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async create(obj) {
      await api.createNamespacedCustomObject({ ...at(obj.kind, obj.metadata.namespace!), body: obj });
    },
    async replace(obj) {
      await api.replaceNamespacedCustomObject({ ...at(obj.kind, obj.metadata.namespace!), name: obj.metadata.name, body: obj });
    },
    async delete(kind, namespace, name) {
      try {
        await api.deleteNamespacedCustomObject({ ...at(kind, namespace), name });
      } catch (err) {
        if (httpStatusOf(err) !== 404) throw err;
      }
    },
  };
}

/** What the revision says the object is: the file's content plus this Sync's labels. */
function desiredOf(m: LoadedManifest, sync: SyncRef): ZlhObject {
  const meta = m.object.metadata;
  return {
    ...m.object,
    metadata: {
      name: meta.name,
      namespace: m.namespace,
      labels: { ...(meta.labels ?? {}), ...inventoryLabels(sync) },
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
    },
  } as ZlhObject;
}

function differs(live: Live, want: ZlhObject): boolean {
  return !isDeepStrictEqual(live.spec, want.spec)
    || !isDeepStrictEqual(live.metadata.labels ?? {}, want.metadata.labels ?? {})
    || !isDeepStrictEqual(live.metadata.annotations ?? {}, want.metadata.annotations ?? {});
}

function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  try {
    const status = JSON.parse(String(body)) as { message?: string };
    if (status.message) return status.message;
  } catch {
    // not a Status body
  }
  const code = httpStatusOf(err);
  return code !== undefined ? `HTTP ${code}` : (err as Error).message;
}

const describeKey = (kind: string, ns: string, name: string) => `${kind.toLowerCase()}.${GROUP}/${name} (namespace ${ns})`;

/** The object's Ready condition as the controller reports it: the Sync's health. */
function readiness(live: Live | undefined): "True" | "False" | "Unknown" {
  return live?.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Unknown";
}

async function applyOne(api: ObjectApi, m: LoadedManifest, sync: SyncRef, out: ApplyOutcome): Promise<"True" | "False" | "Unknown"> {
  const want = desiredOf(m, sync);
  const label = describeKey(m.kind, m.namespace, m.name);
  const live = await api.get(m.kind, m.namespace, m.name);
  if (!live) {
    await api.create(want);
    out.counts.applied++;
    out.created.push(label);
    return "Unknown";
  }
  const owner = ownerSync(live.metadata.labels);
  if (owner && (owner.namespace !== sync.namespace || owner.name !== sync.name)) {
    throw new Error(`${label} belongs to Sync ${owner.namespace}/${owner.name}; not taking it over`);
  }
  if (!differs(live, want)) {
    out.counts.unchanged++;
    return readiness(live);
  }
  // Everything the server and the controller keep (uid, resourceVersion, finalizers,
  // status) stays; what the files say replaces the rest.
  await api.replace({ ...live, metadata: { ...live.metadata, labels: want.metadata.labels, annotations: want.metadata.annotations ?? {} }, spec: want.spec } as Live);
  out.counts.applied++;
  out.corrected.push(label);
  return readiness(live);
}

export interface ApplyInput {
  sync: SyncRef;
  /** The folder the manifests came from: files are named relative to it in status. */
  root: string;
  manifests: readonly LoadedManifest[];
  previous: readonly SyncInventoryEntry[];
  prune: boolean;
}

export async function applyRevision(api: ObjectApi, input: ApplyInput): Promise<ApplyOutcome> {
  const out: ApplyOutcome = { counts: { applied: 0, unchanged: 0, pruned: 0, failed: 0 }, inventory: [], errors: [], corrected: [], created: [], pruned: [] };
  const wanted = new Set<string>();
  for (const m of input.manifests) {
    wanted.add(entryKey(m));
    const file = relative(input.root, m.file);
    try {
      const ready = await applyOne(api, m, input.sync, out);
      out.inventory.push({ kind: m.kind, namespace: m.namespace, name: m.name, file, ready });
    } catch (err) {
      out.counts.failed++;
      out.errors.push({ file, line: m.line, col: m.col, message: `${m.kind} "${m.name}": ${apiMessage(err)}` });
    }
  }
  for (const prev of input.previous) {
    if (wanted.has(entryKey(prev))) continue;
    const live = await api.get(prev.kind, prev.namespace, prev.name).catch(() => undefined);
    const owner = ownerSync(live?.metadata.labels);
    const ours = owner?.namespace === input.sync.namespace && owner.name === input.sync.name;
    if (!input.prune || !live || !ours) continue;
    try {
      await api.delete(prev.kind, prev.namespace, prev.name);
      out.counts.pruned++;
      out.pruned.push(describeKey(prev.kind, prev.namespace, prev.name));
    } catch (err) {
      out.counts.failed++;
      // Still ours and still there: keep it in the inventory so the next run prunes it.
      out.inventory.push(prev);
      out.errors.push({ file: prev.file ?? ".", message: `pruning ${prev.kind} "${prev.name}": ${apiMessage(err)}` });
    }
  }
  return out;
}
