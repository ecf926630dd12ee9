// `providers.dns` entries with `type: technitium` (see the technitiumDnsConfig schema branch).
import type { TechnitiumDnsConfig } from "../../../../schemas/generated/types.js";
import { defineProvider, type SecretRef } from "../provider-config.js";
import { TechnitiumDnsProvider } from "./technitium.js";

export interface ResolvedTechnitiumDns {
  url: string;
  token: SecretRef;
  zone: string;
}

export const technitiumDns = defineProvider({
  parse(section: TechnitiumDnsConfig, ctx): ResolvedTechnitiumDns {
    // The schema leaves both token keys optional (one of two); the provider needs one.
    const token = ctx.secret(section, "token", { required: true })!;
    return { url: section.url, token, zone: section.zone ?? ctx.zone };
  },
  make(r: ResolvedTechnitiumDns, env) {
    return new TechnitiumDnsProvider({ url: r.url, token: () => r.token.value(), zone: r.zone, logger: env.logger, ...(env.clock ? { clock: env.clock } : {}) });
  },
});
