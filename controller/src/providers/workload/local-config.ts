// `providers.workload` with `type: local` (see the localWorkloadConfig schema branch).
import { join } from "node:path";
import type { LocalWorkloadConfig } from "../../../../schemas/generated/types.js";
import { ConfigError, defineProvider } from "../provider-config.js";
import { defaultAgentCommand, LocalWorkloadProvider } from "./local.js";

export interface ResolvedLocalWorkload {
  root: string;
}

export const localWorkload = defineProvider({
  parse(section: LocalWorkloadConfig, ctx): ResolvedLocalWorkload {
    if (ctx.vmids.to > 65535) {
      throw new ConfigError(".vmids.to", "the local workload provider gives each workload a 127.<block>.x.y address, so vmids must stay at most 65535");
    }
    return { root: ctx.path(section.root, join(ctx.dataDir, "workloads")) };
  },
  make(r: ResolvedLocalWorkload, env) {
    return new LocalWorkloadProvider({ root: r.root, agentCommand: defaultAgentCommand(), logger: env.logger, ...(env.clock ? { clock: env.clock } : {}) });
  },
});
