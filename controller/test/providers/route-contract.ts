// The RouteProvider contract, run against every implementation (STYLE.md §3).
import { afterEach, describe, expect, it } from "vitest";
import { isProviderError } from "../../src/providers/provider-error.js";
import type { DesiredRoute, RouteProvider, TraefikConfig } from "../../src/providers/routing/types.js";
import { rejection } from "./rejection.js";

export interface RouteHarness {
  provider: RouteProvider;
  /** Puts a route in place the way an operator would (no owner mark). */
  addForeign(name: string, config: TraefikConfig): Promise<void>;
  /** A token that changes whenever the route's backing object is written; undefined if absent. */
  version(name: string): Promise<string | undefined>;
  /** Makes calls fail; returns text the error message must contain. */
  breakBackend(): Promise<string>;
  cleanup(): Promise<void>;
}

const MARK = "DevEnvironment/default/alice/5d1e2f30-1111-4222-8333-944445555666";

export function httpRoute(name: string, url = "http://127.77.0.100:6000", mark = MARK): DesiredRoute {
  return {
    name,
    ownerMark: mark,
    config: {
      http: {
        routers: { [name]: { entryPoints: ["websecure"], rule: "Host(`dev-100.zlh.localhost`)", service: name, tls: {} } },
        services: { [name]: { loadBalancer: { servers: [{ url }] } } },
      },
    },
  };
}

export function tcpRoute(name: string, port = 25565): DesiredRoute {
  return {
    name,
    ownerMark: "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666",
    config: {
      tcp: {
        routers: { [name]: { entryPoints: [`zlh-${port}`], rule: "HostSNI(`*`)", service: name } },
        services: { [name]: { loadBalancer: { servers: [{ address: "127.77.0.101:25565" }] } } },
      },
    },
  };
}


export function routeProviderContract(name: string, make: () => Promise<RouteHarness>): void {
  describe(`${name} satisfies RouteProvider`, () => {
    let h: RouteHarness;
    const setup = async () => {
      h = await make();
      return h.provider;
    };
    afterEach(async () => h?.cleanup());

    it("writes a route and observes it back with its owner mark", async () => {
      const p = await setup();
      const r = httpRoute("zlh-devenvironment-default-alice");
      await p.apply(r);
      expect((await p.observe([r.name]))[0]).toEqual({ name: r.name, ownerMark: r.ownerMark, config: r.config });
    });

    it("replaces a route's config when it changes", async () => {
      const p = await setup();
      await p.apply(httpRoute("zlh-a"));
      await p.apply(httpRoute("zlh-a", "http://127.77.0.100:7000"));
      expect(((await p.observe(["zlh-a"]))[0])?.config).toEqual(httpRoute("zlh-a", "http://127.77.0.100:7000").config);
    });

    it("writes once when the same route is applied twice", async () => {
      const p = await setup();
      await p.apply(tcpRoute("zlh-gameserver-default-mc1"));
      const v = await h.version("zlh-gameserver-default-mc1");
      expect(v).toBeDefined();
      await p.apply(tcpRoute("zlh-gameserver-default-mc1"));
      expect(await h.version("zlh-gameserver-default-mc1")).toBe(v);
    });

    it("deletes a route, and treats deleting a missing one as success", async () => {
      const p = await setup();
      await p.apply(httpRoute("zlh-a"));
      await p.apply(httpRoute("zlh-b"));
      await p.delete("zlh-a");
      expect((await p.observe(["zlh-a"]))[0]).toBeUndefined();
      expect(await h.version("zlh-a")).toBeUndefined();
      await p.delete("zlh-a");
      await p.delete("zlh-never-existed");
      expect((await p.list()).map((r) => r.name)).toEqual(["zlh-b"]);
    });

    it("lists only routes carrying an owner mark and never touches hand-written ones", async () => {
      const p = await setup();
      const handConfig = { http: { routers: { "zlh-hand": { rule: "Host(`x`)", service: "x" } } } };
      await h.addForeign("zlh-hand", handConfig);
      await p.apply(httpRoute("zlh-a"));
      expect((await p.list()).map((r) => r.name)).toEqual(["zlh-a"]);
      expect((await p.observe(["zlh-hand"]))[0]).toEqual({ name: "zlh-hand", config: handConfig });
      const v = await h.version("zlh-hand");
      const e1 = await rejection(p.apply(httpRoute("zlh-hand")));
      expect(e1.reason).toBe("Conflict");
      expect(e1.message).toContain("zlh-hand");
      const e2 = await rejection(p.delete("zlh-hand"));
      expect(e2.reason).toBe("Conflict");
      expect(await h.version("zlh-hand")).toBe(v);
    });

    it.each(["../escape", "zlh-../../etc/passwd", "zlh-UPPER", "traefik", "zlh-a/b", "zlh-"])(
      "refuses the route name %j",
      async (bad) => {
        const p = await setup();
        const err = await rejection(p.apply({ ...httpRoute("zlh-a"), name: bad }));
        expect(err.reason).toBe("Invalid");
        expect(err.message).toContain(JSON.stringify(bad));
        await expect(p.observe([bad])).rejects.toMatchObject({ reason: "Invalid" });
        await expect(p.delete(bad)).rejects.toMatchObject({ reason: "Invalid" });
      },
    );

    it("refuses a config that fails the Traefik schema, naming the path, and writes nothing", async () => {
      const p = await setup();
      const r = httpRoute("zlh-a");
      const bad = { ...r, config: { http: { routers: { "zlh-a": { rule: "Host(`a`)" } } } } };
      const err = await rejection(p.apply(bad));
      expect(isProviderError(err)).toBe(true);
      expect(err.reason).toBe("Invalid");
      expect(err.message).toContain('.http.routers["zlh-a"].service: required field is missing');
      expect((await p.observe(["zlh-a"]))[0]).toBeUndefined();
      const v2 = await rejection(p.apply({ ...r, config: { http: { routers: { a: { rule: "x", service: "s", ipWhiteList: {} } } } } }));
      expect(v2.message).toContain(".http.routers.a.ipWhiteList: unknown field");
    });

    it("refuses an owner mark that is not one", async () => {
      const p = await setup();
      await expect(p.apply({ ...httpRoute("zlh-a"), ownerMark: "me" })).rejects.toMatchObject({ reason: "Invalid" });
    });

    it("surfaces backend failures with their message", async () => {
      const p = await setup();
      const expected = await h.breakBackend();
      const err = await rejection(p.list());
      expect(isProviderError(err)).toBe(true);
      expect(err.message).toContain(expected);
      await expect(p.apply(httpRoute("zlh-a"))).rejects.toThrow(expected);
    });
  });
}
