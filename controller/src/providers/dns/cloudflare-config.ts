// `providers.dns` entries with `type: cloudflare` (see the cloudflareDnsConfig schema branch).
import type { CloudflareDnsConfig } from "../../../../schemas/generated/types.js";
import { defineProvider, type SecretRef } from "../provider-config.js";
import { CloudflareDnsProvider } from "./cloudflare.js";

export interface ResolvedCloudflareDns {
  url: string;
  token: SecretRef;
  zoneId: string;
  zone: string;
  proxied: boolean;
}

export const cloudflareDns = defineProvider({
  parse(section: CloudflareDnsConfig, ctx): ResolvedCloudflareDns {
    const token = ctx.secret(section, "token", { required: true })!;
    return {
      url: section.url ?? "https://api.cloudflare.com/client/v4",
      token,
      zoneId: section.zoneId,
      zone: section.zone ?? ctx.zone,
      proxied: section.proxied ?? false,
    };
  },
  make(r: ResolvedCloudflareDns, env) {
    return new CloudflareDnsProvider({
      url: r.url,
      token: () => r.token.value(),
      zoneId: r.zoneId,
      zone: r.zone,
      proxied: r.proxied,
      logger: env.logger,
      ...(env.clock ? { clock: env.clock } : {}),
    });
  },
});
