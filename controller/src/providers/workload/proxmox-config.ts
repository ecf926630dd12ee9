// `providers.workload` with `type: proxmox` (see the proxmoxWorkloadConfig schema branch).
import { readFileSync } from "node:fs";
import type { ProxmoxWorkloadConfig } from "../../../../schemas/generated/types.js";
import { ConfigError, defineProvider, type SecretRef } from "../provider-config.js";
import { ProxmoxWorkloadProvider } from "./proxmox.js";

export interface ResolvedProxmoxWorkload {
  url: string;
  node: string;
  tokenId: string;
  secret: SecretRef;
  ca?: string;
  caFile?: string;
  insecureSkipTLSVerify: boolean;
  template: number;
  storage?: string;
  bridge: string;
}

export const proxmoxWorkload = defineProvider({
  parse(section: ProxmoxWorkloadConfig, ctx): ResolvedProxmoxWorkload {
    const secret = ctx.secret(section, "tokenSecret", { required: true })!;
    if (section.caFile !== undefined && section.insecureSkipTLSVerify) ctx.fail("insecureSkipTLSVerify", "give caFile or insecureSkipTLSVerify, not both");
    let ca: string | undefined;
    let caFile: string | undefined;
    if (section.caFile !== undefined) {
      caFile = ctx.readableFile("caFile", section.caFile);
      ca = readFileSync(caFile, "utf8");
      if (!ca.includes("-----BEGIN CERTIFICATE-----")) ctx.fail("caFile", `${caFile} holds no PEM certificate`);
    }
    if (ctx.vmids.from < 100) throw new ConfigError(".vmids.from", `${ctx.vmids.from} is below 100, the lowest vmid Proxmox allows`);
    return {
      url: section.url,
      node: section.node,
      tokenId: section.tokenId,
      secret,
      ...(ca ? { ca, caFile } : {}),
      insecureSkipTLSVerify: section.insecureSkipTLSVerify ?? false,
      template: section.template,
      ...(section.storage ? { storage: section.storage } : {}),
      bridge: section.bridge ?? "vmbr0",
    };
  },
  make(r: ResolvedProxmoxWorkload, env) {
    if (r.insecureSkipTLSVerify) {
      env.logger.warn({ provider: "workload/proxmox", url: r.url }, "insecureSkipTLSVerify is set: the Proxmox API certificate is not verified; set caFile to pin the node's CA");
    }
    return new ProxmoxWorkloadProvider({
      url: r.url,
      node: r.node,
      tokenId: r.tokenId,
      tokenSecret: () => r.secret.value(),
      tls: { ...(r.ca ? { ca: r.ca } : {}), insecureSkipTLSVerify: r.insecureSkipTLSVerify },
      template: r.template,
      ...(r.storage ? { storage: r.storage } : {}),
      bridge: r.bridge,
      logger: env.logger,
      ...(env.clock ? { clock: env.clock } : {}),
    });
  },
});
