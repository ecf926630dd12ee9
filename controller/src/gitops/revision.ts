// One revision of a Sync's files: every manifest under the folder, parsed and validated,
// and a content hash naming exactly those bytes. Validation is all-or-nothing: any error
// and the revision carries errors only, so nothing from it is applied.
import { createHash } from "node:crypto";
import { relative } from "node:path";
import type { SyncFileError } from "../../../schemas/generated/types.js";
import { loadManifests, type LoadedManifest } from "../cli/manifest-loader.js";
import { collectManifestFiles, readManifestFile } from "../cli/manifest-files.js";

export interface LoadedRevision {
  revision: string;
  manifests: LoadedManifest[];
  errors: SyncFileError[];
}

/** sha256 over every manifest's relative path and bytes, in the order they are applied. */
export function folderHash(dir: string): string {
  const { files } = collectManifestFiles([dir], true);
  const h = createHash("sha256");
  for (const f of files) {
    const read = readManifestFile(f);
    h.update(relative(dir, f)).update("\0").update("text" in read ? read.text : `unreadable:${read.error.message}`).update("\0");
  }
  return `sha256:${h.digest("hex")}`;
}

/**
 * Loads `dir` (recursively). `revision` is given for git (the commit); for a folder it is
 * the content hash, taken before and after reading so a file changed mid-read is not
 * applied under the wrong name (the watcher brings the next revision).
 */
export function loadRevision(dir: string, defaultNamespace: string, targetNamespace: string | undefined, revision?: string): LoadedRevision {
  const before = revision ?? folderHash(dir);
  const result = loadManifests([dir], { recursive: true, defaultNamespace: targetNamespace ?? defaultNamespace, validate: true });
  const after = revision ?? folderHash(dir);
  if (before !== after) {
    return { revision: after, manifests: [], errors: [{ file: ".", message: "files changed while they were read; trying again" }] };
  }
  if (!result.ok) {
    // An empty folder is a valid revision that holds nothing (everything of ours is pruned).
    if (result.errors.length === 1 && result.errors[0]!.reason === "NoDocuments") return { revision: before, manifests: [], errors: [] };
    const errors = result.errors.map((e) => ({
      file: e.file === dir ? "." : relative(dir, e.file),
      ...(e.line !== undefined ? { line: e.line } : {}),
      ...(e.col !== undefined ? { col: e.col } : {}),
      message: e.message,
    }));
    return { revision: before, manifests: [], errors };
  }
  const manifests = targetNamespace === undefined
    ? result.manifests
    : result.manifests.map((m) => ({ ...m, namespace: targetNamespace, object: { ...m.object, metadata: { ...m.object.metadata, namespace: targetNamespace } } }));
  return { revision: before, manifests, errors: [] };
}

/** `file:line:col: message`, as an editor jumps to it. */
export function formatFileError(e: SyncFileError): string {
  return `${e.file}${e.line !== undefined ? `:${e.line}` : ""}${e.col !== undefined ? `:${e.col}` : ""}: ${e.message}`;
}
