// `providers.workload` with `type: local` (see the localWorkloadConfig schema branch).
import { join } from "node:path";
import type { LocalWorkloadConfig } from "../../../../schemas/generated/types.js";
import { ConfigError, defineProvider } from "../provider-config.js";
import { DEFAULT_UIDS, type IsolationOptions } from "./local-isolation.js";
import { defaultAgentCommand, LocalWorkloadProvider } from "./local.js";

export interface ResolvedLocalWorkload {
  root: string;
  isolation: IsolationOptions;
}

export const localWorkload = defineProvider({
  parse(section: LocalWorkloadConfig, ctx): ResolvedLocalWorkload {
    if (ctx.vmids.to > 65535) {
      throw new ConfigError(".vmids.to", "the local workload provider gives each workload a 127.<block>.x.y address, so vmids must stay at most 65535");
    }
    const uids = section.uids ?? DEFAULT_UIDS;
    if (uids.from < 1000) ctx.fail("uids.from", `${uids.from} is a system uid; workload uids start at 1000 or above`);
    // Every vmid the controller may hand out needs a uid in the range.
    if (uids.from + ctx.vmids.to > uids.to) {
      ctx.fail("uids.to", `${uids.to} is too small: vmid ${ctx.vmids.to} (.vmids.to) needs uid ${uids.from + ctx.vmids.to}`);
    }
    const root = ctx.path(section.root, join(ctx.dataDir, "workloads"));
    if (root.includes(":") || ctx.dataDir.includes(":")) ctx.fail("root", "the workload root and data directory must not contain ':'");
    // The data directory holds admin.token, agent.secret and tls.key: no sandbox sees it.
    return { root, isolation: { uids, sandbox: section.sandbox ?? "auto", hide: [ctx.dataDir] } };
  },
  make(r: ResolvedLocalWorkload, env) {
    return new LocalWorkloadProvider({
      root: r.root,
      agentCommand: defaultAgentCommand(),
      logger: env.logger,
      isolation: r.isolation,
      ...(env.clock ? { clock: env.clock } : {}),
    });
  },
});
