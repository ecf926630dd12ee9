import { describe, it, expect } from "vitest";
import { desiredRoute, routeName } from "../../src/plan/routes.js";
import { wantedPorts } from "../../src/plan/resource.js";
import { devEnv, edge, gameServer, settings } from "./fixtures.js";

describe("desiredRoute", () => {
  it("names the file zlh-<kind>_<ns>_<name>", () => {
    expect(routeName(gameServer())).toBe("zlh-gameserver_default_mc1");
    expect(routeName(devEnv())).toBe("zlh-devenvironment_team-a_dev1");
  });

  it("routes each game port through its own entryPoint with a catch-all HostSNI (plain TCP has no host name)", () => {
    const ports = [
      { name: "game", port: 25565, protocol: "tcp" as const, publicPort: 30001 },
      { name: "voice", port: 24454, protocol: "udp" as const, publicPort: 30002 },
    ];
    const route = desiredRoute(gameServer(), { vmid: 100, ip: "127.77.0.100", ports }, settings)!;
    expect(route.config).toEqual({
      tcp: {
        routers: { "zlh-gameserver_default_mc1_game": { entryPoints: ["zlh-30001"], rule: "HostSNI(`*`)", service: "zlh-gameserver_default_mc1_game" } },
        services: { "zlh-gameserver_default_mc1_game": { loadBalancer: { servers: [{ address: "127.77.0.100:25565" }] } } },
      },
      udp: {
        routers: { "zlh-gameserver_default_mc1_voice": { entryPoints: ["zlh-30002"], service: "zlh-gameserver_default_mc1_voice" } },
        services: { "zlh-gameserver_default_mc1_voice": { loadBalancer: { servers: [{ address: "127.77.0.100:24454" }] } } },
      },
    });
  });

  it("routes a dev environment's code-server and exposed ports by Host() with TLS", () => {
    const r = devEnv();
    const route = desiredRoute(r, { vmid: 104, ip: "10.0.0.4", ports: wantedPorts(r) }, edge)!;
    const http = route.config.http as { routers: Record<string, { rule: string; tls: unknown }>; services: Record<string, unknown> };
    expect(Object.values(http.routers).map((x) => x.rule)).toEqual(["Host(`dev-104.games.example.com`)", "Host(`dev-104-8080.games.example.com`)"]);
    expect(http.routers["zlh-devenvironment_team-a_dev1_code-server"]!.tls).toEqual({ certResolver: "le" });
    expect(http.services["zlh-devenvironment_team-a_dev1_port-8080"]).toEqual({ loadBalancer: { servers: [{ url: "http://10.0.0.4:8080" }] } });
  });

  it("writes no file for a resource that publishes nothing", () => {
    const r = devEnv({ codeServer: { enabled: false }, ports: [] });
    expect(desiredRoute(r, { vmid: 104, ip: "10.0.0.4", ports: wantedPorts(r) }, settings)).toBeUndefined();
  });
});
