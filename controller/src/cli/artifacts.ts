// `zlh artifacts publish|promote|serve` and `zlh catalog`: the artifact directory
// (default <data-dir>/artifacts, the one `npm start` serves) and its catalog.
import { isIP } from "node:net";
import { join } from "node:path";
import { pino } from "pino";
import type { ArtifactCatalog } from "../../../schemas/generated/types.js";
import { validateDocument } from "../../../schemas/validate.js";
import { CatalogError, readCatalog, summarize } from "../catalog/catalog-file.js";
import { CliError } from "./cli-error.js";
import type { CliIO } from "./cli-io.js";
import { DEFAULT_DATA_DIR } from "./connection.js";
import { formatTable } from "./table.js";

export const DEFAULT_ARTIFACT_LISTEN = "127.0.0.1:7480";

export interface DirOptions {
  dir?: string;
  dataDir?: string;
}

export function artifactDir(o: DirOptions): string {
  return o.dir ?? join(o.dataDir ?? DEFAULT_DATA_DIR, "artifacts");
}

function asCliError(e: unknown): never {
  if (e instanceof CatalogError) throw new CliError(e.reason === "NotFound" ? "NotFound" : "InvalidArgument", e.message);
  throw e;
}

function channelOf(value: string | undefined): "stable" | "beta" | undefined {
  if (value === undefined) return undefined;
  if (value !== "stable" && value !== "beta") throw new CliError("InvalidArgument", `--channel must be stable or beta, got ${JSON.stringify(value)}`);
  return value;
}

export interface PublishCliOptions extends DirOptions {
  name: string;
  version: string;
  channel?: string;
  platform?: string;
  kind?: string;
  bin?: string[];
  source?: string;
}

export async function publishCommand(io: CliIO, file: string, o: PublishCliOptions): Promise<number> {
  const { publishArtifact } = await import("../catalog/publish.js");
  const kind = o.kind ?? "runtime";
  if (kind !== "runtime" && kind !== "service" && kind !== "file") throw new CliError("InvalidArgument", `--kind must be runtime, service or file, got ${JSON.stringify(kind)}`);
  const draft = { name: o.name, version: o.version, platform: o.platform ?? "any", bin: o.bin };
  // The schema's patterns, checked before any bytes are copied, naming the flag.
  const probe = { apiVersion: "zerolaghub.dev/v1alpha1", kind: "ArtifactCatalog", artifacts: [{ ...draft, bin: draft.bin ?? ["bin"], sha256: "0".repeat(64), size: 0, published: new Date(0).toISOString(), source: "x", channel: "beta", file: `files/${"0".repeat(64)}/x` }] };
  const bad = validateDocument("ArtifactCatalog", probe);
  if (bad.length > 0) {
    const e = bad[0]!;
    throw new CliError("InvalidArgument", `--${e.path.replace(/^\.artifacts\[0\]\./, "").replace(/\[\d+\]$/, "")}: ${e.message}`);
  }
  try {
    const { artifact, changed } = await publishArtifact(artifactDir(o), file, {
      name: o.name,
      version: o.version,
      channel: channelOf(o.channel),
      platform: o.platform,
      kind,
      bin: o.bin,
      source: o.source,
      now: io.clock.now(),
    });
    io.out(`${changed ? "published" : "unchanged"} ${artifact.name} ${artifact.version} ${artifact.platform} ${artifact.channel} sha256:${artifact.sha256} ${artifact.size} bytes`);
    return 0;
  } catch (e) {
    asCliError(e);
  }
}

export async function promoteCommand(io: CliIO, name: string, version: string, o: DirOptions & { channel: string }): Promise<number> {
  const { promoteArtifact } = await import("../catalog/publish.js");
  const channel = channelOf(o.channel)!;
  try {
    for (const a of promoteArtifact(artifactDir(o), name, version, channel)) io.out(`${a.name} ${a.version} ${a.platform} is now ${a.channel}`);
    return 0;
  } catch (e) {
    asCliError(e);
  }
}

/** host:port; loopback unless the operator names another address. */
export function parseArtifactListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:[\]]+):(\d+)$/.exec(listen);
  const host = m?.[1] === "localhost" ? "127.0.0.1" : m?.[1];
  if (!m || !host || !isIP(host) || Number(m[2]) > 65535) throw new CliError("InvalidArgument", `--listen ${JSON.stringify(listen)} must be IP:port, e.g. ${DEFAULT_ARTIFACT_LISTEN} (port 0 picks a free one)`);
  return { host, port: Number(m[2]) };
}

export async function serveCommand(io: CliIO, dir: string, o: { listen?: string; logLevel?: string }): Promise<number> {
  const { startArtifactServer } = await import("../catalog/artifact-server.js");
  const { host, port } = parseArtifactListen(o.listen ?? DEFAULT_ARTIFACT_LISTEN);
  try {
    readCatalog(dir);
  } catch (e) {
    asCliError(e);
  }
  let server;
  try {
    server = await startArtifactServer({ dir, host, port, logger: pino({ level: o.logLevel ?? "info" }, pino.destination(2)) });
  } catch (e) {
    throw new CliError("ServerError", `cannot listen on ${o.listen ?? DEFAULT_ARTIFACT_LISTEN}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.err(`artifact server at ${server.url} serving ${dir}; Ctrl-C stops it`);
  if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener("abort", () => resolve(), { once: true }));
  await server.close();
  return 0;
}

async function fetchCatalog(url: string): Promise<ArtifactCatalog> {
  let res: Response;
  try {
    res = await fetch(new URL("/v1/catalog", url), { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new CliError("NoServer", `no artifact server at ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new CliError("ServerError", `${url}/v1/catalog answered ${res.status}`);
  const doc = await res.json();
  const errors = validateDocument("ArtifactCatalog", doc);
  if (errors.length > 0) throw new CliError("ServerError", `${url}/v1/catalog is not a catalog: ${errors[0]!.path}: ${errors[0]!.message}`);
  return doc as ArtifactCatalog;
}

export async function catalogCommand(io: CliIO, o: DirOptions & { url?: string; output?: string }): Promise<number> {
  let catalog: ArtifactCatalog;
  try {
    catalog = o.url ? await fetchCatalog(o.url) : readCatalog(artifactDir(o));
  } catch (e) {
    asCliError(e);
  }
  const entries = summarize(catalog);
  if (o.output === "json") {
    io.out(JSON.stringify(entries, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    io.err(`the catalog is empty (publish with \`zlh artifacts publish FILE --name N --version V\`)`);
    return 0;
  }
  const rows = entries.flatMap((e) => e.versions.map((v) => [e.name, v.version, v.channel, v.platform, e.kind, String(v.size), v.published]));
  for (const line of formatTable(["NAME", "VERSION", "CHANNEL", "PLATFORM", "KIND", "SIZE", "PUBLISHED"], rows)) io.out(line);
  return 0;
}
