// The base image every LXC workload starts from: `debootstrap --variant=minbase` once per
// host into a cache directory, then shared read-only (overlay) or copied per container.
// Building takes minutes, so progress goes to the log; it happens in a scratch directory
// renamed into place only when complete, so a crash or a failed download never leaves a
// half image that later containers would use.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Logger } from "pino";
import { writeFileAtomic } from "../atomic-write.js";
import { ioError, ProviderError } from "../provider-error.js";

export interface RootfsOptions {
  cacheDir: string;
  suite: string;
  mirror: string;
  logger?: Logger;
  /** The debootstrap binary (tests may point it elsewhere). */
  debootstrap?: string;
}

/** Written beside the image once it is complete. */
export const ROOTFS_STAMP = "rootfs.json";

export function rootfsDir(o: Pick<RootfsOptions, "cacheDir" | "suite">): string {
  return join(o.cacheDir, `${o.suite}-minbase`);
}

// One build per cache directory per process; concurrent callers wait for the same one.
const building = new Map<string, Promise<string>>();

/** The image directory, built first when the cache has none. */
export function ensureRootfs(o: RootfsOptions): Promise<string> {
  const dir = rootfsDir(o);
  if (isComplete(o)) return Promise.resolve(dir);
  let p = building.get(dir);
  if (!p) {
    p = build(o).finally(() => building.delete(dir));
    building.set(dir, p);
  }
  return p;
}

function stampPath(o: Pick<RootfsOptions, "cacheDir" | "suite">): string {
  return join(o.cacheDir, `${o.suite}-minbase.${ROOTFS_STAMP}`);
}

function isComplete(o: RootfsOptions): boolean {
  try {
    const stamp = JSON.parse(readFileSync(stampPath(o), "utf8")) as { suite?: string };
    return stamp.suite === o.suite && existsSync(join(rootfsDir(o), "usr/bin/env"));
  } catch {
    return false;
  }
}

async function build(o: RootfsOptions): Promise<string> {
  const dir = rootfsDir(o);
  const scratch = `${dir}.partial-${process.pid}`;
  const log = o.logger;
  try {
    mkdirSync(o.cacheDir, { recursive: true, mode: 0o755 });
    rmSync(scratch, { recursive: true, force: true });
  } catch (err) {
    throw ioError("cannot prepare the rootfs cache", o.cacheDir, err);
  }
  const started = Date.now();
  log?.info({ cacheDir: o.cacheDir, suite: o.suite, mirror: o.mirror }, "building the LXC base image with debootstrap (once per host, a few minutes)");
  try {
    await runDebootstrap(o, scratch);
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
  try {
    rmSync(dir, { recursive: true, force: true }); // an incomplete image from an older run
    renameSync(scratch, dir);
  } catch (err) {
    // Another process finished first and its image is complete: use that one.
    rmSync(scratch, { recursive: true, force: true });
    if (isComplete(o)) return dir;
    throw ioError("cannot move the built rootfs into place", dir, err);
  }
  writeFileAtomic(stampPath(o), JSON.stringify({ suite: o.suite, mirror: o.mirror, builtAt: new Date().toISOString() }) + "\n");
  log?.info({ dir, seconds: Math.round((Date.now() - started) / 1000) }, "LXC base image ready");
  return dir;
}

/** Runs debootstrap, logging each new phase (Retrieving, Extracting, Unpacking, Configuring). */
function runDebootstrap(o: RootfsOptions, target: string): Promise<void> {
  const args = ["--variant=minbase", o.suite, target, o.mirror];
  const child = spawn(o.debootstrap ?? "debootstrap", args, { stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  let phase = "";
  let count = 0;
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 5) tail.shift();
    const m = /^I: (\S+)/.exec(line);
    if (!m) return;
    count++;
    if (m[1] !== phase) {
      phase = m[1]!;
      o.logger?.info({ phase, step: count, line }, "debootstrap progress");
    }
  };
  createInterface({ input: child.stdout }).on("line", onLine);
  createInterface({ input: child.stderr }).on("line", onLine);
  return new Promise((resolve, reject) => {
    child.once("error", (err) => reject(new ProviderError("Unavailable", `cannot run debootstrap (install the debootstrap package): ${err.message}`, { cause: err })));
    child.once("close", (code) => {
      if (code === 0) return resolve();
      reject(new ProviderError("Unavailable", `debootstrap ${args.join(" ")} exited with ${code}: ${tail.join(" | ")}`));
    });
  });
}
