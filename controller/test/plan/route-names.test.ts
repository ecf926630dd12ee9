import { describe, expect, it } from "vitest";
import type { ZlhResource } from "../../src/plan/resource.js";
import { desiredRoute, legacyRouteName, routeName } from "../../src/plan/routes.js";
import { ROUTE_NAME } from "../../src/providers/routing/route-rules.js";
import { gameServer, settings } from "./fixtures.js";

function gs(namespace: string, name: string, port = "game"): ZlhResource {
  const r = gameServer({ ports: [{ name: port, port: 25565 }] }, name);
  return { ...r, metadata: { ...r.metadata, namespace } };
}

/** Every Traefik object name a resource's file defines: the file name, routers and services. */
function traefikNames(r: ZlhResource): string[] {
  const ports = [{ name: r.kind === "GameServer" ? r.spec.ports[0]!.name : "code-server", port: 25565, protocol: "tcp" as const, publicPort: 30000 }];
  const route = desiredRoute(r, { vmid: 100, ip: "127.77.0.100", ports }, settings)!;
  const tcp = route.config.tcp as { routers: object; services: object };
  return [`file:${route.name}`, ...Object.keys(tcp.routers), ...Object.keys(tcp.services).map((s) => `service:${s}`)];
}

describe("generated Traefik names", () => {
  it.each([
    ["namespaces a/b-c vs a-b/c", gs("a", "b-c"), gs("a-b", "c")],
    ["GameServer rc port x-game vs rc-x port game", gs("default", "rc", "x-game"), gs("default", "rc-x", "game")],
    ["name a-b in namespace c vs name b in namespace c-a", gs("c", "a-b"), gs("c-a", "b")],
    ["port names that look like a suffix", gs("default", "mc", "game-2"), gs("default", "mc-game", "2")],
  ])("never coincide for %s", (_what, x, y) => {
    const a = traefikNames(x);
    const b = traefikNames(y);
    expect(a.filter((n) => b.includes(n))).toEqual([]);
  });

  it("the old hyphenated names did coincide for those pairs (why they changed)", () => {
    expect(legacyRouteName(gs("a", "b-c"))).toBe(legacyRouteName(gs("a-b", "c")));
  });

  it("are valid route (file) names, and differ from the legacy name they replace", () => {
    for (const r of [gs("a", "b-c"), gs("x".repeat(63), "y".repeat(63))]) {
      expect(routeName(r)).toMatch(ROUTE_NAME);
      expect(routeName(r).length).toBeLessThanOrEqual(200);
      expect(routeName(r)).not.toBe(legacyRouteName(r));
    }
  });
});
