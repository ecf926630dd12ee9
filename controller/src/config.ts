// The controller config file: validated by schemas/controller-config.schema.json, then
// resolved into one object with every default filled in and every path absolute.
import { readFileSync } from "node:fs";
import { resolve, join } from "node:path";
import { parseDocument } from "yaml";
import type { ControllerConfig } from "../../schemas/generated/types.js";
import { validateDocument } from "../../schemas/validate.js";
import type { Range } from "./plan/allocation.js";
import type { PlanSettings } from "./plan/resource.js";

export interface ResolvedConfig {
  settings: PlanSettings;
  workers: number;
  vmids: Range;
  publicPorts: Range;
  agent: { listen: string; heartbeatSeconds: number; missedHeartbeats: number };
  workload: { type: "local" | "memory"; root: string };
  dns: { type: "file" | "memory"; path: string };
  routing: { type: "traefik-file" | "memory"; directory: string };
}

export class ConfigError extends Error {
  readonly reason = "InvalidConfig";
}

export function loadConfig(path: string | undefined, dataDir: string): ResolvedConfig {
  let doc: ControllerConfig = { apiVersion: "zerolaghub.dev/v1alpha1", kind: "ControllerConfig" };
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new ConfigError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const parsed = parseDocument(text, { prettyErrors: true });
    if (parsed.errors.length > 0) {
      const e = parsed.errors[0]!;
      throw new ConfigError(`${path}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1}: ${e.message.split("\n")[0]}`);
    }
    doc = parsed.toJS({ maxAliasCount: 50 }) as ControllerConfig;
    const errors = validateDocument("ControllerConfig", doc);
    if (errors.length > 0) {
      throw new ConfigError(errors.map((e) => `${path}: ${e.path}: ${e.message}`).join("\n"));
    }
  }
  const ranges = { vmids: doc.vmids ?? { from: 100, to: 65535 }, publicPorts: doc.publicPorts ?? { from: 30000, to: 32767 } };
  for (const [name, r] of Object.entries(ranges)) {
    if (r.from > r.to) throw new ConfigError(`${path ?? "config"}: .${name}: from (${r.from}) is greater than to (${r.to})`);
  }
  if (ranges.publicPorts.to > 65535) throw new ConfigError(`${path ?? "config"}: .publicPorts.to: must be at most 65535`);
  const p = doc.providers ?? {};
  const workloadType = p.workload?.type ?? "local";
  if (workloadType === "local" && ranges.vmids.to > 65535) {
    throw new ConfigError(`${path ?? "config"}: .vmids.to: the local workload provider gives each workload a 127.<block>.x.y address, so vmids must stay at most 65535`);
  }
  return {
    settings: {
      zone: doc.zone ?? "zlh.localhost",
      ttl: p.dns?.ttl ?? 60,
      httpEntryPoint: p.routing?.httpEntryPoint ?? "websecure",
      ...(p.routing?.certResolver ? { certResolver: p.routing.certResolver } : {}),
      ...(p.routing?.edgeAddress ? { edgeAddress: p.routing.edgeAddress } : {}),
    },
    workers: doc.workers ?? 4,
    ...ranges,
    agent: {
      listen: doc.agent?.listen ?? "127.0.0.1:0",
      heartbeatSeconds: doc.agent?.heartbeatSeconds ?? 5,
      missedHeartbeats: doc.agent?.missedHeartbeats ?? 3,
    },
    workload: { type: workloadType, root: resolve(p.workload?.root ?? join(dataDir, "workloads")) },
    dns: { type: p.dns?.type ?? "file", path: resolve(p.dns?.path ?? join(dataDir, "dns", "records.zone")) },
    routing: { type: p.routing?.type ?? "traefik-file", directory: resolve(p.routing?.directory ?? join(dataDir, "traefik")) },
  };
}
