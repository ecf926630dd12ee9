// Endpoints and URLs shown in status. With an edge they name the public host; in local
// mode (no DNS server serves the records file) URLs point at the workload's own address.
import type { Endpoint, ResourceStatus } from "../../../schemas/generated/types.js";
import { hostname } from "./hostnames.js";
import type { PlanSettings, Placement, ZlhResource } from "./resource.js";

export function endpoints(r: ZlhResource, at: Placement, s: PlanSettings): Endpoint[] {
  return at.ports.map((p): Endpoint => {
    if (r.kind === "GameServer") {
      const host = hostname({ kind: "GameServer", label: r.spec.hostname ?? r.metadata.name }, s.zone);
      const protocol = p.protocol === "udp" ? "udp" : "tcp";
      if (s.edgeAddress && p.publicPort !== undefined) {
        return { name: p.name, host, port: p.publicPort, protocol, url: `${protocol}://${host}:${p.publicPort}` };
      }
      return { name: p.name, host, port: p.port, protocol, url: `${protocol}://${at.ip}:${p.port}` };
    }
    const host = hostname({ kind: "DevEnvironment", vmid: at.vmid, port: p.name === "code-server" ? undefined : p.port }, s.zone);
    if (s.edgeAddress) return { name: p.name, host, port: 443, protocol: "https", url: `https://${host}/` };
    return { name: p.name, host, port: p.port, protocol: "http", url: `http://${at.ip}:${p.port}/` };
  });
}

/** DevEnvironment only: status.urls (code-server plus one per exposed port). */
export function devUrls(list: readonly Endpoint[]): NonNullable<ResourceStatus["urls"]> {
  const urls: NonNullable<ResourceStatus["urls"]> = {};
  const ports: Record<string, string> = {};
  for (const e of list) {
    if (e.name === "code-server") urls.codeServer = e.url;
    else ports[e.name.replace(/^port-/, "")] = e.url;
  }
  if (Object.keys(ports).length > 0) urls.ports = ports;
  return urls;
}
