// The controller config file: checked against schemas/controller-config.schema.json, then
// each provider section is handed to the parser its `type` names (provider-registry.ts), so
// the result has every default filled in, every path absolute and every secret file found.
// Any problem is ONE line naming the key, with file:line:col where the YAML has the key.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument, type Document } from "yaml";
import type { ControllerConfig } from "../../schemas/generated/types.js";
import { validateDocument, type FieldError } from "../../schemas/validate.js";
import { parseFieldPath, positionOf } from "./cli/yaml-positions.js";
import type { Range } from "./plan/allocation.js";
import type { PlanSettings } from "./plan/resource.js";
import { providerRegistry, type ProviderKind } from "./provider-registry.js";
import { ConfigError, parseContext } from "./providers/provider-config.js";
import type { DnsTargetKind } from "./plan/dns.js";
import { findInlineSecret } from "./config-secrets.js";

export { ConfigError } from "./providers/provider-config.js";

/** One provider section after its parser ran. `resolved` is that provider's own shape. */
export interface ResolvedProvider {
  type: string;
  /** Where the section is in the config (".providers.dns[1]"), for messages. */
  field: string;
  resolved: unknown;
}

export interface ResolvedDnsProvider extends ResolvedProvider {
  target: DnsTargetKind;
}

export interface ResolvedConfig {
  /** The config file (absolute); undefined when running on built-in defaults. */
  file?: string;
  dataDir: string;
  settings: PlanSettings;
  workers: number;
  vmids: Range;
  publicPorts: Range;
  agent: { listen: string; heartbeatSeconds: number; missedHeartbeats: number };
  workload: ResolvedProvider;
  /** Every record goes to each of these (an empty list publishes no DNS). */
  dns: ResolvedDnsProvider[];
  routing: ResolvedProvider;
}

type Section = Record<string, unknown> & { type?: unknown };

interface Source {
  file?: string;
  doc?: Document;
  lines?: LineCounter;
}

/** Adds `file:line:col` (where the YAML has the key), `file`, or `config` without a file. */
function located(err: ConfigError, src: Source): ConfigError {
  if (!src.file) return err.at("config");
  if (!src.doc || !src.lines || !err.field) return err.at(src.file);
  const pos = positionOf(src.doc, parseFieldPath(err.field), src.lines);
  return err.at(`${src.file}:${pos.line}:${pos.col}`);
}

function readSource(path: string): { src: Source; doc: unknown } {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError("", `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, path);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, lineCounter: lines });
  const e = doc.errors[0];
  if (e) {
    const pos = e.linePos?.[0];
    throw new ConfigError("", e.message.split("\n")[0]!, `${file}:${pos?.line ?? 1}:${pos?.col ?? 1}`);
  }
  return { src: { file, doc, lines }, doc: doc.toJS({ maxAliasCount: 50 }) };
}

/** The provider sections of a document, with their field paths; dns may be one or a list. */
function sectionsOf(doc: ControllerConfig): { kind: ProviderKind; field: string; section: unknown }[] {
  const p = (doc.providers ?? {}) as Record<string, unknown>;
  const out: { kind: ProviderKind; field: string; section: unknown }[] = [];
  if (p.workload !== undefined) out.push({ kind: "workload", field: ".providers.workload", section: p.workload });
  if (Array.isArray(p.dns)) p.dns.forEach((s, i) => out.push({ kind: "dns", field: `.providers.dns[${i}]`, section: s }));
  else if (p.dns !== undefined) out.push({ kind: "dns", field: ".providers.dns", section: p.dns });
  if (p.routing !== undefined) out.push({ kind: "routing", field: ".providers.routing", section: p.routing });
  return out;
}

// The schema dispatches on `type` too, but its message for an unknown one cannot list the choices.
function checkTypes(doc: ControllerConfig): void {
  for (const { kind, field, section } of sectionsOf(doc)) {
    if (!section || typeof section !== "object" || Array.isArray(section)) continue;
    const type = (section as Section).type;
    const known = Object.keys(providerRegistry[kind]);
    if (type === undefined) throw new ConfigError(`${field}.type`, `required field is missing (one of ${known.join(", ")})`);
    if (typeof type !== "string" || !Object.hasOwn(providerRegistry[kind], type)) {
      throw new ConfigError(`${field}.type`, `unknown ${kind} provider ${JSON.stringify(type)}; must be one of ${known.join(", ")}`);
    }
  }
}

/**
 * The most telling of the schema's complaints: the deepest path (a oneOf's branches add noise
 * above it), and among equals an unknown key (a typo) before the required key it misspells.
 */
function mostSpecific(errors: FieldError[]): FieldError {
  const score = (e: FieldError) => parseFieldPath(e.path).length * 2 + (e.message === "unknown field" ? 1 : 0);
  const best = errors.reduce((b, e) => (score(e) > score(b) ? e : b));
  if (best.path === ".providers.dns" && /must be (object|array)|oneOf/.test(best.message)) {
    return { path: best.path, message: "must be one provider (a mapping with type) or a list of them" };
  }
  return best;
}

function checkRanges(ranges: { vmids: Range; publicPorts: Range }): void {
  for (const [name, r] of Object.entries(ranges)) {
    if (r.from > r.to) throw new ConfigError(`.${name}`, `from (${r.from}) is greater than to (${r.to})`);
  }
  if (ranges.publicPorts.to > 65535) throw new ConfigError(".publicPorts.to", "must be at most 65535");
}

function resolveDocument(doc: ControllerConfig, baseDir: string, dataDir: string, env: NodeJS.ProcessEnv): Omit<ResolvedConfig, "file"> {
  const ranges = { vmids: doc.vmids ?? { from: 100, to: 65535 }, publicPorts: doc.publicPorts ?? { from: 30000, to: 32767 } };
  checkRanges(ranges);
  const zone = doc.zone ?? "zlh.localhost";
  const resolveSection = (field: string, kind: ProviderKind, section: Section): ResolvedProvider => {
    const type = section.type as string;
    const ctx = parseContext({ field, baseDir, dataDir, zone, vmids: ranges.vmids, env });
    return { type, field, resolved: providerRegistry[kind][type]!.parse(section, ctx) };
  };
  const p = doc.providers ?? {};
  const workload = (p.workload ?? { type: "local" }) as Section;
  const routing = (p.routing ?? { type: "traefik-file" }) as Section;
  const dnsSections = p.dns === undefined ? [{ field: ".providers.dns", section: { type: "file" } as Section }] : sectionsOf(doc).filter((s) => s.kind === "dns").map((s) => ({ field: s.field, section: s.section as Section }));

  const ttls = dnsSections.map((s) => ({ field: `${s.field}.ttl`, ttl: (s.section.ttl as number | undefined) ?? 60 }));
  // The reconciler plans one record set for all providers, so they share one TTL.
  const clash = ttls.find((t) => t.ttl !== ttls[0]!.ttl);
  if (clash) throw new ConfigError(clash.field, `every DNS provider publishes the same records with one TTL; use ${ttls[0]!.ttl} here too`);

  return {
    dataDir,
    settings: {
      zone,
      ttl: ttls[0]?.ttl ?? 60,
      httpEntryPoint: (routing.httpEntryPoint as string | undefined) ?? "websecure",
      ...(typeof routing.certResolver === "string" ? { certResolver: routing.certResolver } : {}),
      ...(typeof routing.edgeAddress === "string" ? { edgeAddress: routing.edgeAddress } : {}),
    },
    workers: doc.workers ?? 4,
    ...ranges,
    agent: {
      listen: doc.agent?.listen ?? "127.0.0.1:0",
      heartbeatSeconds: doc.agent?.heartbeatSeconds ?? 5,
      missedHeartbeats: doc.agent?.missedHeartbeats ?? 3,
    },
    workload: resolveSection(p.workload ? ".providers.workload" : "", "workload", workload),
    dns: dnsSections.map((s) => ({
      ...resolveSection(s.field, "dns", s.section),
      target: (s.section.target as DnsTargetKind | undefined) ?? "edge",
    })),
    routing: resolveSection(p.routing ? ".providers.routing" : "", "routing", routing),
  };
}

/**
 * Loads and resolves the config (the built-in defaults when `path` is undefined). Throws a
 * ConfigError whose message is one line: `file:line:col: .key: what is wrong`.
 */
export function loadConfig(path: string | undefined, dataDir: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  let src: Source = {};
  let doc: ControllerConfig = { apiVersion: "zerolaghub.dev/v1alpha1", kind: "ControllerConfig" };
  try {
    if (path !== undefined) {
      const read = readSource(path);
      src = read.src;
      if (!read.doc || typeof read.doc !== "object" || Array.isArray(read.doc)) {
        throw new ConfigError("", "the config must be a mapping (apiVersion, kind, providers, ...)");
      }
      const secret = findInlineSecret(read.doc);
      if (secret) throw new ConfigError(secret.field, secret.message);
      checkTypes(read.doc as ControllerConfig);
      const errors = validateDocument("ControllerConfig", read.doc);
      if (errors.length > 0) {
        const e = mostSpecific(errors);
        throw new ConfigError(e.path, e.message);
      }
      doc = read.doc as ControllerConfig;
    }
    const baseDir = src.file ? dirname(src.file) : process.cwd();
    return { ...(src.file ? { file: src.file } : {}), ...resolveDocument(doc, baseDir, resolve(dataDir), env) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw err.where ? err : located(err, src);
  }
}
