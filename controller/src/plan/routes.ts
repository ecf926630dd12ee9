// The Traefik v3 dynamic configuration for one resource: HTTP Host() routers for dev
// environments, one TCP/UDP entryPoint per game port (plain TCP cannot be routed by name).
import type { DesiredRoute, TraefikConfig } from "../providers/routing/types.js";
import { ownerMark } from "../providers/owner.js";
import { hostname } from "./hostnames.js";
import { ownerOf, type PlanSettings, type Placement, type ZlhResource } from "./resource.js";

/**
 * `zlh-<kind>_<ns>_<name>`: the file name and the prefix of every router and service in it
 * (`<route>_<port>`). Names, namespaces and port names are DNS labels, which never hold
 * `_`, so every part is delimited: `a`/`b-c` and `a-b`/`c`, or GameServer `rc` port
 * `x-game` and `rc-x` port `game`, can no longer meet in one name. Traefik merges every
 * file into one namespace of routers, so this must hold across files too.
 */
export function routeName(r: ZlhResource): string {
  return `zlh-${r.kind.toLowerCase()}_${r.metadata.namespace ?? "default"}_${r.metadata.name}`;
}

/**
 * The name versions before 0.2 used, ambiguous because hyphens joined the parts. The
 * reconciler removes a file of this name once the new one is written, if our owner mark
 * is on it (someone else's resource may have produced the same old name).
 */
export function legacyRouteName(r: ZlhResource): string {
  return `zlh-${r.kind.toLowerCase()}-${r.metadata.namespace ?? "default"}-${r.metadata.name}`;
}

/** The router and service name of one port of the route named `route`. */
export function routerName(route: string, port: string): string {
  return `${route}_${port}`;
}

export function publicEntryPoint(port: number): string {
  return `zlh-${port}`;
}

/** Undefined when the resource publishes nothing through Traefik. */
export function desiredRoute(r: ZlhResource, at: Placement, s: PlanSettings): DesiredRoute | undefined {
  const base = routeName(r);
  const config: Record<string, { routers: Record<string, unknown>; services: Record<string, unknown> }> = {};
  const section = (name: "http" | "tcp" | "udp") => (config[name] ??= { routers: {}, services: {} });
  for (const p of at.ports) {
    const id = routerName(base, p.name);
    if (p.protocol === "http") {
      const host = r.kind === "DevEnvironment" && p.name !== "code-server"
        ? hostname({ kind: "DevEnvironment", vmid: at.vmid, port: p.port }, s.zone)
        : hostname(r.kind === "DevEnvironment" ? { kind: "DevEnvironment", vmid: at.vmid } : { kind: "GameServer", label: r.spec.hostname ?? r.metadata.name }, s.zone);
      const http = section("http");
      http.routers[id] = {
        entryPoints: [s.httpEntryPoint],
        rule: `Host(\`${host}\`)`,
        service: id,
        tls: s.certResolver ? { certResolver: s.certResolver } : {},
      };
      http.services[id] = { loadBalancer: { servers: [{ url: `http://${at.ip}:${p.port}` }] } };
    } else if (p.publicPort !== undefined) {
      const sec = section(p.protocol);
      sec.routers[id] = p.protocol === "tcp"
        ? { entryPoints: [publicEntryPoint(p.publicPort)], rule: "HostSNI(`*`)", service: id }
        : { entryPoints: [publicEntryPoint(p.publicPort)], service: id };
      sec.services[id] = { loadBalancer: { servers: [{ address: `${at.ip}:${p.port}` }] } };
    }
  }
  if (Object.keys(config).length === 0) return undefined;
  return { name: base, ownerMark: ownerMark(ownerOf(r)), config: config as TraefikConfig };
}
