// `zlh artifacts serve DIR`: serves the catalog and the files it lists, nothing else.
//   GET /v1/catalog               the catalog document (schemas/artifact-catalog.schema.json)
//   GET|HEAD /files/<sha256>/<f>  a listed file; `Range: bytes=N-` resumes a download
//   GET /healthz
// A file is served only when the catalog lists it with a checksum and its bytes still hash to
// it (checked once per size+mtime), so a file changed on disk is refused, not handed out.
import { createReadStream, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isIPv6 } from "node:net";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ArtifactCatalog, CatalogArtifact } from "../../../schemas/generated/types.js";
import { readCatalog } from "./catalog-file.js";
import { hashFile } from "./publish.js";

export interface ArtifactServerOptions {
  dir: string;
  host: string;
  port: number;
  logger: Logger;
}

export interface RunningArtifactServer {
  /** http://HOST:PORT */
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

class Verifier {
  private readonly ok = new Map<string, string>();
  constructor(private readonly dir: string) {}

  /** undefined when the file on disk is the one the catalog names; else why not. */
  async problem(a: CatalogArtifact): Promise<string | undefined> {
    const path = join(this.dir, a.file);
    let st;
    try {
      st = statSync(path);
    } catch {
      return `${a.file} is listed but missing`;
    }
    if (st.size !== a.size) return `${a.file} has ${st.size} bytes, the catalog says ${a.size}`;
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    if (this.ok.get(path) === key) return undefined;
    const { sha256 } = await hashFile(path);
    if (sha256 !== a.sha256) return `${a.file} has sha256 ${sha256}, the catalog says ${a.sha256}`;
    this.ok.set(path, key);
    return undefined;
  }
}

function parseRange(header: string | undefined, size: number): { start: number } | "invalid" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-$/.exec(header.trim());
  if (!m) return "invalid";
  const start = Number(m[1]);
  return start <= size ? { start } : "invalid";
}

async function serveFile(res: ServerResponse, req: IncomingMessage, dir: string, a: CatalogArtifact): Promise<void> {
  const range = parseRange(req.headers.range, a.size);
  if (range === "invalid") {
    res.writeHead(416, { "Content-Range": `bytes */${a.size}` });
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const headers: Record<string, string | number> = {
    "Content-Type": "application/octet-stream",
    "Content-Length": a.size - start,
    "Accept-Ranges": "bytes",
    "X-Checksum-Sha256": a.sha256,
    "Cache-Control": "no-cache",
  };
  if (range) headers["Content-Range"] = `bytes ${start}-${Math.max(start, a.size - 1)}/${a.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === "HEAD" || start === a.size) {
    res.end();
    return;
  }
  const stream = createReadStream(join(dir, a.file), { start });
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}

async function handle(dir: string, verifier: Verifier, logger: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0]!;
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: `method ${req.method} not allowed` });
  if (path === "/healthz") return send(res, 200, { ok: true });
  let catalog: ArtifactCatalog;
  try {
    catalog = readCatalog(dir);
  } catch (e) {
    logger.error({ err: (e as Error).message }, "catalog unreadable");
    return send(res, 503, { error: (e as Error).message });
  }
  if (path === "/v1/catalog") return send(res, 200, catalog);
  // Only the exact paths the catalog lists: no directory walking, no `..`.
  const artifact = path.startsWith("/files/") ? catalog.artifacts.find((a) => `/${a.file}` === path) : undefined;
  if (!artifact) return send(res, 404, { error: `${path} is not in the catalog` });
  const problem = await verifier.problem(artifact);
  if (problem) {
    logger.error({ file: artifact.file, name: artifact.name, version: artifact.version, problem }, "refusing to serve an artifact that does not match its checksum");
    return send(res, 409, { error: `refusing to serve: ${problem}` });
  }
  await serveFile(res, req, dir, artifact);
}

export async function startArtifactServer(o: ArtifactServerOptions): Promise<RunningArtifactServer> {
  const verifier = new Verifier(o.dir);
  const server: Server = createServer((req, res) => {
    handle(o.dir, verifier, o.logger, req, res).catch((e) => {
      o.logger.error({ err: (e as Error).message }, "artifact request failed");
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${isIPv6(o.host) ? `[${o.host}]` : o.host}:${port}`;
  o.logger.info({ url, dir: o.dir }, "artifact server started");
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
