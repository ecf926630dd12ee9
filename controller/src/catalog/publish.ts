// `zlh artifacts publish` and `promote`: hash a file, copy it into the artifact directory
// under its checksum (files/<sha256>/<name>) and record it in the catalog. A published
// name+version+platform is immutable: publishing other bytes under it is refused, publishing
// the same bytes again changes nothing.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, copyFileSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { CatalogArtifact } from "../../../schemas/generated/types.js";
import { CatalogError, hostPlatform, readCatalog, writeCatalog } from "./catalog-file.js";

export interface PublishOptions {
  name: string;
  version: string;
  channel?: "stable" | "beta";
  platform?: string;
  kind?: "runtime" | "service" | "file";
  /** Directories inside the archive to put on PATH (runtimes; default ["bin"]). */
  bin?: string[];
  /** Provenance; default the file's absolute path. */
  source?: string;
  /** Milliseconds since the epoch, for `published`. */
  now: number;
}

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

function safeFileName(file: string): string {
  const name = basename(file).replace(/[^A-Za-z0-9._+-]/g, "_").slice(-200);
  return name === "" || name === "." || name === ".." ? "artifact" : name;
}

export async function publishArtifact(dir: string, file: string, o: PublishOptions): Promise<{ artifact: CatalogArtifact; changed: boolean }> {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new CatalogError("InvalidArgument", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new CatalogError("InvalidArgument", `${file} is not a regular file`);
  const { sha256, size } = await hashFile(file);
  const platform = o.platform ?? hostPlatform();
  const kind = o.kind ?? "runtime";
  const catalog = readCatalog(dir);
  const same = catalog.artifacts.find((a) => a.name === o.name && a.version === o.version && a.platform === platform);
  if (same && same.sha256 !== sha256) {
    throw new CatalogError("AlreadyPublished", `${o.name} ${o.version} (${platform}) is already published with sha256 ${same.sha256}; this file has ${sha256}. Published versions are immutable: publish a new version`);
  }
  if (same) return { artifact: same, changed: false };
  const rel = `files/${sha256}/${safeFileName(file)}`;
  const target = join(dir, rel);
  mkdirSync(join(dir, "files", sha256), { recursive: true });
  // Copy to a temp name first: the server never sees a half-copied file under a catalog name.
  const tmp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    copyFileSync(file, tmp);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const artifact: CatalogArtifact = {
    name: o.name,
    version: o.version,
    platform,
    sha256,
    size,
    published: new Date(o.now).toISOString(),
    source: o.source ?? resolve(file),
    channel: o.channel ?? "beta",
    kind,
    ...(kind === "runtime" ? { bin: o.bin ?? ["bin"] } : {}),
    file: rel,
  };
  catalog.artifacts.push(artifact);
  writeCatalog(dir, catalog);
  return { artifact, changed: true };
}

/** Moves every platform's build of name+version to `channel`. */
export function promoteArtifact(dir: string, name: string, version: string, channel: "stable" | "beta"): CatalogArtifact[] {
  const catalog = readCatalog(dir);
  const hits = catalog.artifacts.filter((a) => a.name === name && a.version === version);
  if (hits.length === 0) {
    const versions = catalog.artifacts.filter((a) => a.name === name).map((a) => a.version);
    throw new CatalogError("NotFound", `${name} ${version} is not published${versions.length ? ` (published: ${[...new Set(versions)].join(", ")})` : ""}`);
  }
  for (const a of hits) a.channel = channel;
  writeCatalog(dir, catalog);
  return hits;
}
