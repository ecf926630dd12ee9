// The controller's view of the artifact catalog: what the portal lists, whether a
// `{name, version}` is installable (and why not), the admission check that refuses a
// DevEnvironment naming something the agent could not install, and the artifact handed to
// the agent with its spec. Reads <dir>/catalog.json again whenever it changes on disk.
import { statSync } from "node:fs";
import { join } from "node:path";
import type { ArtifactCatalog } from "../../../schemas/generated/types.js";
import type { FieldError } from "../../../schemas/validate.js";
import type { Admission } from "../api/object-routes.js";
import { CATALOG_FILE, hostPlatform, readCatalog, resolveArtifact, summarize, type CatalogSummaryEntry } from "./catalog-file.js";

export interface RuntimeValidation {
  name: string;
  version: string;
  installable: boolean;
  reason?: string;
}

/** What the agent gets in `artifacts` of its spec. */
export interface AgentArtifacts {
  runtime?: { name: string; version: string; url: string; sha256: string; size: number; bin: string[] };
  runtimeError?: string;
}

export interface RuntimeCatalog {
  summary(): CatalogSummaryEntry[];
  validate(name: string, version: string): RuntimeValidation;
  forAgent(runtime: { name: string; version: string } | undefined): AgentArtifacts | undefined;
}

export function dirRuntimeCatalog(dir: string, baseUrl: () => string, platform = hostPlatform()): RuntimeCatalog {
  let cached: { key: string; catalog: ArtifactCatalog } | undefined;
  const load = (): ArtifactCatalog => {
    let key = "absent";
    try {
      const st = statSync(join(dir, CATALOG_FILE));
      key = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // no catalog yet: empty
    }
    if (cached?.key !== key) cached = { key, catalog: readCatalog(dir) };
    return cached.catalog;
  };
  return {
    summary: () => summarize(load()),
    validate(name, version) {
      const r = resolveArtifact(load(), name, version, platform);
      return r.ok ? { name, version, installable: true } : { name, version, installable: false, reason: r.reason };
    },
    forAgent(runtime) {
      if (!runtime) return undefined;
      const r = resolveArtifact(load(), runtime.name, runtime.version, platform);
      if (!r.ok) return { runtimeError: r.reason };
      const a = r.artifact;
      return { runtime: { name: a.name, version: a.version, url: `${baseUrl()}/${a.file}`, sha256: a.sha256, size: a.size, bin: a.bin ?? ["bin"] } };
    },
  };
}

/** Admission: a DevEnvironment's `spec.runtime` must be in the catalog (create and update, dry runs too). */
export function runtimeAdmission(catalog: RuntimeCatalog): Admission {
  return async ({ kind, object }): Promise<FieldError[]> => {
    if (kind !== "DevEnvironment") return [];
    const runtime = (object.spec as { runtime?: { name?: unknown; version?: unknown } } | undefined)?.runtime;
    if (!runtime || typeof runtime.name !== "string" || typeof runtime.version !== "string") return [];
    const v = catalog.validate(runtime.name, runtime.version);
    return v.installable ? [] : [{ path: ".spec.runtime", message: v.reason ?? "is not installable" }];
  };
}

/** GET /catalog/v1/runtimes and /catalog/v1/runtimes/validate?name=&version= on the API server. */
export function catalogRoute(catalog: RuntimeCatalog) {
  return (method: string, path: string, query: URLSearchParams): { status: number; body: unknown } | undefined => {
    if (path !== "/catalog/v1/runtimes" && path !== "/catalog/v1/runtimes/validate") return undefined;
    if (method !== "GET") return { status: 405, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "MethodNotAllowed", code: 405, message: `${method} is not supported on ${path}` } };
    if (path === "/catalog/v1/runtimes") return { status: 200, body: { runtimes: catalog.summary() } };
    const name = query.get("name");
    const version = query.get("version");
    if (!name || !version) return { status: 400, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "BadRequest", code: 400, message: "name and version query parameters are required" } };
    return { status: 200, body: catalog.validate(name, version) };
  };
}
