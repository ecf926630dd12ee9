// Readers of our files (Traefik's watcher, an operator's editor, the DNS file reader) must see
// either the old or the new content, never half a file, and a crash must not leave a torn
// file: write a temporary file in the same directory, fsync it, rename it over the target,
// then fsync the directory so the rename itself survives a power loss.
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ioError } from "./provider-error.js";

export interface AtomicWriteOptions {
  /** Where the temporary file goes; must be in the target's directory. Default `<path>.tmp`. */
  tmpPath?: string;
  /** File mode of the new file (default 0o644). */
  mode?: number;
}

export function writeFileAtomic(path: string, content: string, options: AtomicWriteOptions = {}): void {
  const tmp = options.tmpPath ?? `${path}.tmp`;
  const mode = options.mode ?? 0o644;
  try {
    const fd = openSync(tmp, "w", mode);
    try {
      // The umask (or a leftover temp file) must not decide the mode: a token file is 0600.
      fchmodSync(fd, mode);
      const bytes = Buffer.from(content, "utf8");
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw ioError("cannot write", path, err);
  }
  syncDirectory(dirname(path));
}

function syncDirectory(dir: string): void {
  // Some file systems refuse fsync on a directory; the rename has still happened.
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}
