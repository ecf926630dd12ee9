// Every provider the controller config can name, keyed by the section's `type` (STYLE.md §9).
// A new provider is one line here plus its parser beside it (e.g. providers/dns/file-config.ts)
// and its branch in schemas/controller-config.schema.json; the loader knows no provider keys.
import { isSecretKey } from "./config-secrets.js";
import type { DnsProvider } from "./providers/dns/types.js";
import { cloudflareDns } from "./providers/dns/cloudflare-config.js";
import { fileDns } from "./providers/dns/file-config.js";
import { rfc2136Dns } from "./providers/dns/rfc2136-config.js";
import { technitiumDns } from "./providers/dns/technitium-config.js";
import { memoryDns, memoryRouting, memoryWorkload } from "./providers/memory-config.js";
import { ConfigError, defineProvider, type ParseContext, type RegisteredProvider } from "./providers/provider-config.js";
import { traefikFileRouting } from "./providers/routing/traefik-file-config.js";
import type { RouteProvider } from "./providers/routing/types.js";
import { localWorkload } from "./providers/workload/local-config.js";
import { lxcWorkload } from "./providers/workload/lxc-config.js";
import { proxmoxWorkload } from "./providers/workload/proxmox-config.js";
import type { WorkloadProvider } from "./providers/workload/types.js";

export type ProviderKind = "workload" | "dns" | "routing";

/**
 * A provider whose section the schema already accepts but whose implementation has not
 * landed: the config loads (so a production config can be checked today), and starting the
 * server with it fails naming the section's type.
 */
function notBuiltYet<P>(kind: ProviderKind, type: string): RegisteredProvider<P> {
  return defineProvider({
    parse: (section: Record<string, unknown>, ctx) => {
      checkNamedFiles(section, ctx, "");
      return { field: `${ctx.field}.type` };
    },
    make: (r: { field: string }): P => {
      throw new ConfigError(r.field, `the ${type} ${kind} provider is not part of this build yet`);
    },
  });
}

// Files and variables the section names must exist (secrets non-empty), so a typo fails at
// load exactly as it will once the provider is built.
function checkNamedFiles(section: Record<string, unknown>, ctx: ParseContext, prefix: string): void {
  const sectionField = prefix ? `${ctx.field}.${prefix.slice(0, -1)}` : ctx.field;
  for (const [key, value] of Object.entries(section)) {
    const base = key.replace(/(File|Env)$/, "");
    if (typeof value === "string" && base !== key && isSecretKey(base)) ctx.secret(section, base, { required: false, sectionField });
    else if (typeof value === "string" && key.endsWith("File")) ctx.readableFile(prefix + key, value);
    else if (typeof value === "string" && key.endsWith("Env") && !ctx.env[value]) ctx.fail(prefix + key, `environment variable ${value} is not set or empty`);
    else if (value && typeof value === "object" && !Array.isArray(value)) checkNamedFiles(value as Record<string, unknown>, ctx, `${prefix}${key}.`);
  }
}

export const workloadProviders: Record<string, RegisteredProvider<WorkloadProvider>> = {
  local: localWorkload,
  lxc: lxcWorkload,
  proxmox: proxmoxWorkload,
  memory: memoryWorkload,
};

export const dnsProviders: Record<string, RegisteredProvider<DnsProvider>> = {
  file: fileDns,
  technitium: technitiumDns,
  cloudflare: cloudflareDns,
  rfc2136: rfc2136Dns,
  memory: memoryDns,
};

export const routingProviders: Record<string, RegisteredProvider<RouteProvider>> = {
  "traefik-file": traefikFileRouting,
  "traefik-sftp": notBuiltYet("routing", "traefik-sftp"),
  memory: memoryRouting,
};

export const providerRegistry: Record<ProviderKind, Record<string, RegisteredProvider<unknown>>> = {
  workload: workloadProviders,
  dns: dnsProviders,
  routing: routingProviders,
};
