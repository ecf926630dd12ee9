// The catalog document on disk (<dir>/catalog.json, schema schemas/artifact-catalog.schema.json)
// and the pure lookups on it. Writes go through a temp file and a rename, so a reader (the
// artifact server, the controller) sees the old catalog or the new one, never half of one.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ArtifactCatalog, CatalogArtifact } from "../../../schemas/generated/types.js";
import { validateDocument } from "../../../schemas/validate.js";

export const CATALOG_FILE = "catalog.json";

export class CatalogError extends Error {
  override readonly name = "CatalogError";
  constructor(
    readonly reason: "InvalidCatalog" | "AlreadyPublished" | "NotFound" | "InvalidArgument",
    message: string,
  ) {
    super(message);
  }
}

export function emptyCatalog(): ArtifactCatalog {
  return { apiVersion: "zerolaghub.dev/v1alpha1", kind: "ArtifactCatalog", artifacts: [] };
}

/** The platform this process runs on, in catalog terms (`linux-x64`). */
export function hostPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/** Reads and validates `<dir>/catalog.json`; a missing file is an empty catalog. */
export function readCatalog(dir: string): ArtifactCatalog {
  const path = join(dir, CATALOG_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyCatalog();
    throw new CatalogError("InvalidCatalog", `${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CatalogError("InvalidCatalog", `${path}: not JSON: ${(e as Error).message}`);
  }
  const errors = validateDocument("ArtifactCatalog", doc);
  if (errors.length > 0) throw new CatalogError("InvalidCatalog", `${path}: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  return doc as ArtifactCatalog;
}

export function writeCatalog(dir: string, catalog: ArtifactCatalog): void {
  const errors = validateDocument("ArtifactCatalog", catalog);
  if (errors.length > 0) throw new CatalogError("InvalidCatalog", `refusing to write an invalid catalog: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${CATALOG_FILE}.${randomBytes(4).toString("hex")}.tmp`);
  writeFileSync(tmp, JSON.stringify(catalog, null, 2) + "\n");
  renameSync(tmp, join(dir, CATALOG_FILE));
}

/** Orders versions numerically where they are numbers (20.9.0 < 20.19.0), else as text. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

export type Resolution = { ok: true; artifact: CatalogArtifact } | { ok: false; reason: string };

/**
 * The artifact that `{name, version}` installs on `platform` (an exact platform beats `any`),
 * or why there is none, worded for the person who wrote the spec.
 */
export function resolveArtifact(catalog: ArtifactCatalog, name: string, version: string, platform: string): Resolution {
  const named = catalog.artifacts.filter((a) => a.name === name && (a.kind ?? "runtime") === "runtime");
  if (named.length === 0) {
    const names = [...new Set(catalog.artifacts.filter((a) => (a.kind ?? "runtime") === "runtime").map((a) => a.name))].sort();
    return { ok: false, reason: `runtime ${JSON.stringify(name)} is not in the catalog (available: ${names.length ? names.join(", ") : "none"})` };
  }
  const forPlatform = named.filter((a) => a.platform === platform || a.platform === "any");
  const versioned = forPlatform.filter((a) => a.version === version);
  if (versioned.length === 0) {
    const versions = [...new Set(forPlatform.map((a) => a.version))].sort(compareVersions);
    const elsewhere = named.some((a) => a.version === version) ? ` (${version} exists only for ${named.filter((a) => a.version === version).map((a) => a.platform).join(", ")})` : "";
    return { ok: false, reason: `runtime ${name} has no version ${JSON.stringify(version)} for ${platform}${elsewhere} (available: ${versions.length ? versions.join(", ") : "none"})` };
  }
  return { ok: true, artifact: versioned.find((a) => a.platform === platform) ?? versioned[0]! };
}

export interface CatalogSummaryEntry {
  name: string;
  kind: string;
  versions: { version: string; channel: string; platform: string; size: number; published: string }[];
}

/** Names, versions and channels for the portal and `zlh catalog`, newest version first. */
export function summarize(catalog: ArtifactCatalog): CatalogSummaryEntry[] {
  const byName = new Map<string, CatalogSummaryEntry>();
  for (const a of catalog.artifacts) {
    let e = byName.get(a.name);
    if (!e) byName.set(a.name, (e = { name: a.name, kind: a.kind ?? "runtime", versions: [] }));
    e.versions.push({ version: a.version, channel: a.channel, platform: a.platform, size: a.size, published: a.published });
  }
  const out = [...byName.values()].sort((x, y) => x.name.localeCompare(y.name));
  for (const e of out) e.versions.sort((x, y) => compareVersions(y.version, x.version) || x.platform.localeCompare(y.platform));
  return out;
}
