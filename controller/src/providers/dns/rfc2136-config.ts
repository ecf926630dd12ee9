// `providers.dns` entries with `type: rfc2136` (see the rfc2136DnsConfig schema branch).
import type { Rfc2136DnsConfig } from "../../../../schemas/generated/types.js";
import { defineProvider, type SecretRef } from "../provider-config.js";
import { parseServer, type DnsServer } from "./dns-transport.js";
import { Rfc2136DnsProvider } from "./rfc2136.js";
import type { TsigAlgorithm } from "./tsig.js";

export interface ResolvedRfc2136Dns {
  server: DnsServer;
  zone: string;
  keyName: string;
  algorithm: TsigAlgorithm;
  secret: SecretRef;
  timeoutMs: number;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const rfc2136Dns = defineProvider({
  parse(section: Rfc2136DnsConfig, ctx): ResolvedRfc2136Dns {
    const server = parseServer(section.server);
    if (!server) ctx.fail("server", `"${section.server}" is not host:port (port 1-65535; IPv6 as [addr]:port)`);
    const tsigField = `${ctx.field}.tsig`;
    const secret = ctx.secret(section.tsig, "secret", { required: true, sectionField: tsigField })!;
    const key = section.tsig.secretFile !== undefined ? "secretFile" : "secretEnv";
    // Checked at load so a pasted hex key or a stray character fails here, not at the first update.
    if (!BASE64.test(secret.value()) || Buffer.from(secret.value(), "base64").length === 0) ctx.fail(`tsig.${key}`, "the TSIG secret must be base64 (as in the server's key config)");
    return {
      server: server!,
      zone: section.zone ?? ctx.zone,
      keyName: section.tsig.name,
      algorithm: section.tsig.algorithm ?? "hmac-sha256",
      secret,
      timeoutMs: (section.timeoutSeconds ?? 10) * 1000,
    };
  },
  make(r: ResolvedRfc2136Dns, env) {
    return new Rfc2136DnsProvider({
      server: r.server,
      zone: r.zone,
      key: () => ({ name: r.keyName, algorithm: r.algorithm, secret: Buffer.from(r.secret.value(), "base64") }),
      timeoutMs: r.timeoutMs,
      logger: env.logger,
      ...(env.clock ? { clock: env.clock } : {}),
    });
  },
});
