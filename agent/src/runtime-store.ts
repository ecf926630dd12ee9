// The runtimes on disk: <root>/opt/zlh/runtimes/<name>/<version>/ (each with its
// .zlh_metadata.json), `current` and `previous` symlinks per name, and the agent's scratch
// (`.downloads/*.part`, `.staging-*`, `.trash-*`, temp links). A version directory only
// ever appears by renaming a complete staging directory, and `current` only changes by
// renaming a new symlink over it, so a killed agent leaves either the old state or the new
// one; `recoverRuntimes` clears the scratch (keeping `.part` files, which resume).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProvisioningError } from "./provisioning.js";

export const METADATA_FILE = ".zlh_metadata.json";

export interface RuntimeMetadata {
  name: string;
  version: string;
  source: string;
  sha256: string;
  size: number;
  installed: string;
  agentVersion: string;
  bin: string[];
}

export function runtimesDir(root: string): string {
  return join(root, "opt", "zlh", "runtimes");
}

export function runtimePaths(root: string, name: string) {
  const dir = join(runtimesDir(root), name);
  return { dir, current: join(dir, "current"), previous: join(dir, "previous"), version: (v: string) => join(dir, v) };
}

export function partFile(root: string, sha256: string): string {
  return join(runtimesDir(root), ".downloads", `${sha256}.part`);
}

export function readMetadata(versionDir: string): RuntimeMetadata | undefined {
  try {
    return JSON.parse(readFileSync(join(versionDir, METADATA_FILE), "utf8")) as RuntimeMetadata;
  } catch {
    return undefined;
  }
}

function linkTarget(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

export function activeVersion(root: string, name: string): string | undefined {
  return linkTarget(runtimePaths(root, name).current);
}

function tmpName(dir: string, prefix: string): string {
  return join(dir, `${prefix}${randomBytes(4).toString("hex")}`);
}

/** Points `link` at `target` (a sibling name) by renaming a fresh symlink over it. */
function swapLink(link: string, target: string, dir: string): void {
  const tmp = tmpName(dir, ".link-");
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

function runTar(archive: string, into: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // GNU tar detects gzip/xz/zstd itself, refuses `..` members and strips leading `/`.
    const child = spawn("tar", ["-xf", archive, "-C", into, "--no-same-owner", "--delay-directory-restore"], { stdio: ["ignore", "ignore", "pipe"], signal });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      if (err.length < 2000) err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}: ${err.trim().split("\n").slice(-3).join("; ")}`))));
  });
}

/** Extracts a verified archive into <name>/<version> through a staging directory. */
export async function extractVersion(root: string, archive: string, meta: RuntimeMetadata, signal: AbortSignal): Promise<void> {
  const p = runtimePaths(root, meta.name);
  mkdirSync(p.dir, { recursive: true });
  const staging = tmpName(p.dir, `.staging-${meta.version}-`);
  mkdirSync(staging);
  try {
    await runTar(archive, staging, signal);
    for (const b of meta.bin) {
      if (!existsSync(join(staging, b))) throw new Error(`the archive has no ${b}/ (the catalog's bin directory)`);
    }
    writeFileSync(join(staging, METADATA_FILE), JSON.stringify(meta, null, 2) + "\n");
    const final = p.version(meta.version);
    if (existsSync(final)) renameSync(final, tmpName(p.dir, ".trash-"));
    renameSync(staging, final);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw new ProvisioningError("runtime", `runtime ${meta.name} ${meta.version}: extracting failed: ${(e as Error).message}`);
  } finally {
    clearTrash(p.dir);
  }
}

/** Makes `version` current; the version it replaces becomes `previous`. */
export function activate(root: string, name: string, version: string): { previous?: string } {
  const p = runtimePaths(root, name);
  const was = linkTarget(p.current);
  if (was === version) return { previous: linkTarget(p.previous) };
  if (was !== undefined && existsSync(p.version(was))) swapLink(p.previous, was, p.dir);
  swapLink(p.current, version, p.dir);
  return { previous: was };
}

function clearTrash(dir: string): void {
  for (const e of readdirSync(dir)) if (e.startsWith(".trash-")) rmSync(join(dir, e), { recursive: true, force: true });
}

/**
 * Removes what is no longer wanted: for `keep`'s name every version but current and
 * previous; every other runtime entirely; every download but `keepPart`.
 */
export function pruneRuntimes(root: string, keep: string | undefined, keepPart?: string): string[] {
  const base = runtimesDir(root);
  const removed: string[] = [];
  if (!existsSync(base)) return removed;
  for (const name of readdirSync(base)) {
    if (name.startsWith(".")) continue;
    const p = runtimePaths(root, name);
    if (name !== keep) {
      rmSync(p.dir, { recursive: true, force: true });
      removed.push(name);
      continue;
    }
    const wanted = new Set([linkTarget(p.current), linkTarget(p.previous)].filter((v): v is string => v !== undefined));
    for (const v of readdirSync(p.dir)) {
      if (v.startsWith(".") || v === "current" || v === "previous" || wanted.has(v)) continue;
      rmSync(p.version(v), { recursive: true, force: true });
      removed.push(`${name}/${v}`);
    }
  }
  const downloads = join(base, ".downloads");
  if (keep === undefined) rmSync(downloads, { recursive: true, force: true });
  else if (existsSync(downloads)) for (const f of readdirSync(downloads)) if (join(downloads, f) !== keepPart) rmSync(join(downloads, f), { force: true });
  return removed;
}

/** After a restart: half-extracted staging directories, trash and temp links go; `.part` files stay to resume. */
export function recoverRuntimes(root: string): string[] {
  const base = runtimesDir(root);
  const cleaned: string[] = [];
  if (!existsSync(base)) return cleaned;
  for (const name of readdirSync(base)) {
    if (name.startsWith(".")) continue;
    const dir = join(base, name);
    for (const e of readdirSync(dir)) {
      if (e.startsWith(".staging-") || e.startsWith(".trash-") || e.startsWith(".link-")) {
        rmSync(join(dir, e), { recursive: true, force: true });
        cleaned.push(`${name}/${e}`);
      }
    }
  }
  return cleaned;
}
