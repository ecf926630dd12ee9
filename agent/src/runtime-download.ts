// Downloads one artifact to `<part>` and proves it is the catalog's: the size is enforced
// while bytes arrive (a server sending more is cut off) and the sha256 is compared before
// anything is extracted. A `.part` left by an agent killed mid-download is resumed with
// `Range` (its bytes are hashed again first); a mismatch deletes it, so nothing is left behind.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import { ProvisioningError } from "./provisioning.js";

export interface DownloadTarget {
  name: string;
  version: string;
  url: string;
  sha256: string;
  size: number;
}

export interface DownloadOptions {
  signal: AbortSignal;
  /** Called with bytes so far, at most every few MiB. */
  onProgress?(done: number, total: number): void;
  fetchImpl?: typeof fetch;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function hashPrefix(path: string, bytes: number): Promise<ReturnType<typeof createHash>> {
  const hash = createHash("sha256");
  if (bytes > 0) for await (const chunk of createReadStream(path, { end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash;
}

function fail(a: DownloadTarget, message: string): ProvisioningError {
  return new ProvisioningError("runtime", `runtime ${a.name} ${a.version}: ${message}`);
}

/** Leaves a verified file at `part` or throws (and removes it). */
export async function downloadVerified(a: DownloadTarget, part: string, o: DownloadOptions): Promise<void> {
  let have = sizeOf(part);
  if (have > a.size) {
    rmSync(part, { force: true });
    have = 0;
  }
  const hash = await hashPrefix(part, have);
  if (have < a.size) {
    let res: Response;
    try {
      res = await (o.fetchImpl ?? fetch)(a.url, { signal: o.signal, headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
    } catch (e) {
      throw fail(a, `download from ${a.url} failed: ${(e as Error).message}`);
    }
    if (res.status === 200 && have > 0) {
      // The server ignored the Range: start over.
      return downloadFresh(a, part, res, o);
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw fail(a, `download from ${a.url} answered HTTP ${res.status}`);
    }
    await appendBody(a, part, res, have, hash, o);
  }
  verify(a, part, hash.digest("hex"));
}

async function downloadFresh(a: DownloadTarget, part: string, res: Response, o: DownloadOptions): Promise<void> {
  rmSync(part, { force: true });
  const hash = createHash("sha256");
  await appendBody(a, part, res, 0, hash, o);
  verify(a, part, hash.digest("hex"));
}

async function appendBody(a: DownloadTarget, part: string, res: Response, start: number, hash: ReturnType<typeof createHash>, o: DownloadOptions): Promise<void> {
  const out = createWriteStream(part, { flags: start > 0 ? "a" : "w" });
  let done = start;
  let reported = 0;
  try {
    if (!res.body) throw fail(a, `download from ${a.url} has no body`);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      done += chunk.length;
      if (done > a.size) throw fail(a, `download is larger than the catalog's ${a.size} bytes; refusing it`);
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, "drain");
      if (done - reported >= 4 * 1024 * 1024) {
        reported = done;
        o.onProgress?.(done, a.size);
      }
    }
  } catch (e) {
    out.destroy();
    // An oversized body is never resumable; an interrupted one keeps its prefix for the next try.
    if (e instanceof ProvisioningError) rmSync(part, { force: true });
    throw e instanceof ProvisioningError ? e : fail(a, `download from ${a.url} was interrupted: ${(e as Error).message}`);
  }
  out.end();
  await once(out, "close");
}

function verify(a: DownloadTarget, part: string, sha256: string): void {
  const size = sizeOf(part);
  if (size !== a.size) {
    rmSync(part, { force: true });
    throw fail(a, `size mismatch: the catalog says ${a.size} bytes, the download has ${size}; nothing was installed`);
  }
  if (sha256 !== a.sha256) {
    rmSync(part, { force: true });
    throw fail(a, `sha256 mismatch: the catalog says ${a.sha256}, the download has ${sha256}; nothing was installed`);
  }
}
