// `providers.dns` entries with `type: file` (see the fileDnsConfig schema branch).
import { join } from "node:path";
import type { FileDnsConfig } from "../../../../schemas/generated/types.js";
import { defineProvider } from "../provider-config.js";
import { FileDnsProvider } from "./file.js";

export interface ResolvedFileDns {
  path: string;
}

export const fileDns = defineProvider({
  parse(section: FileDnsConfig, ctx): ResolvedFileDns {
    return { path: ctx.path(section.path, join(ctx.dataDir, "dns", "records.zone")) };
  },
  make(r: ResolvedFileDns, env) {
    return new FileDnsProvider({ path: r.path, zone: env.zone, logger: env.logger });
  },
});
