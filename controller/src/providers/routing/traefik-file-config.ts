// `providers.routing` with `type: traefik-file` (see the traefikFileRoutingConfig schema branch).
import { join } from "node:path";
import type { TraefikFileRoutingConfig } from "../../../../schemas/generated/types.js";
import { defineProvider } from "../provider-config.js";
import { TraefikFileRouteProvider } from "./traefik-file.js";

export interface ResolvedTraefikFile {
  directory: string;
}

export const traefikFileRouting = defineProvider({
  parse(section: TraefikFileRoutingConfig, ctx): ResolvedTraefikFile {
    return { directory: ctx.path(section.directory, join(ctx.dataDir, "traefik")) };
  },
  make(r: ResolvedTraefikFile, env) {
    return new TraefikFileRouteProvider({ directory: r.directory, logger: env.logger });
  },
});
