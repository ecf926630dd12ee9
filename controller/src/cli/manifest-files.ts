// Which files an `-f` argument names, and reading them with a size cap so a huge or
// hostile file is refused before the YAML parser ever sees it.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from "node:fs";
import { extname, join } from "node:path";
import type { ManifestError } from "./manifest-error.js";

export const MAX_MANIFEST_BYTES = 1024 * 1024;
const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

export interface ManifestFiles {
  files: string[];
  errors: ManifestError[];
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function walk(dir: string, recursive: boolean, into: string[]): void {
  // Sorted so a directory applies in the same order on every machine.
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    // Symlinked directories are not followed: a link loop must not hang `-R`.
    if (entry.isDirectory()) {
      if (recursive) walk(path, recursive, into);
    } else if (EXTENSIONS.has(extname(entry.name).toLowerCase()) && statOrUndefined(path)?.isFile()) {
      into.push(path);
    }
  }
}

/** Expands each `-f` argument: a file is taken as is, a directory yields its manifests sorted by name. */
export function collectManifestFiles(paths: readonly string[], recursive: boolean): ManifestFiles {
  const files: string[] = [];
  const errors: ManifestError[] = [];
  for (const path of paths) {
    const st = statOrUndefined(path);
    if (!st) {
      errors.push({ reason: "FileNotFound", file: path, message: "no such file or directory" });
    } else if (st.isDirectory()) {
      walk(path, recursive, files);
    } else if (!EXTENSIONS.has(extname(path).toLowerCase())) {
      errors.push({ reason: "UnsupportedFile", file: path, message: "unsupported file type (expected .yaml, .yml or .json)" });
    } else {
      files.push(path);
    }
  }
  return { files: [...new Set(files)], errors };
}

function tooLarge(file: string, bytes: number): ManifestError {
  const mib = (bytes / (1024 * 1024)).toFixed(1);
  return { reason: "FileTooLarge", file, message: `file is ${mib} MiB, over the ${MAX_MANIFEST_BYTES / (1024 * 1024)} MiB limit for a manifest` };
}

function notRegular(file: string, st: Stats): ManifestError {
  const what = st.isFIFO() ? "a FIFO" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : st.isSocket() ? "a socket" : "not a regular file";
  return { reason: "NotRegularFile", file, message: `${what}: only regular files are read as manifests` };
}

/**
 * Reads a manifest as UTF-8. Only regular files are read (a link to /dev/zero would grow
 * without end, a FIFO would block forever), and never more than the cap plus one byte.
 * The file is opened non-blocking and checked with fstat on the open descriptor, so a
 * FIFO cannot block the open and a file swapped after a stat is still the one checked.
 */
export function readManifestFile(file: string): { text: string } | { error: ManifestError } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: { reason: "FileNotFound", file, message: code === "ENOENT" ? "no such file or directory" : `cannot open: ${code ?? String(e)}` } };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: notRegular(file, st) };
    if (st.size > MAX_MANIFEST_BYTES) return { error: tooLarge(file, st.size) };
    // One byte over the cap tells a file that grew since fstat from one exactly at the cap.
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_MANIFEST_BYTES) return { error: tooLarge(file, Math.max(length, fstatSync(fd).size)) };
    }
    return { text: buf.subarray(0, length).toString("utf8") };
  } finally {
    closeSync(fd);
  }
}
