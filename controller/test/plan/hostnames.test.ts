import { describe, it, expect } from "vitest";
import { hostname, minecraftSrvName } from "../../src/plan/hostnames.js";

describe("hostname", () => {
  it("formats dev environments as dev-<vmid>.<zone> and exposed ports as dev-<vmid>-<port>.<zone>", () => {
    expect(hostname({ kind: "DevEnvironment", vmid: 104 }, "zlh.localhost")).toBe("dev-104.zlh.localhost");
    expect(hostname({ kind: "DevEnvironment", vmid: 104, port: 8080 }, "zlh.localhost")).toBe("dev-104-8080.zlh.localhost");
  });

  it("formats game servers as <label>.<zone> and their SRV name under _minecraft._tcp", () => {
    const host = hostname({ kind: "GameServer", label: "survival" }, "games.example.com");
    expect(host).toBe("survival.games.example.com");
    expect(minecraftSrvName(host)).toBe("_minecraft._tcp.survival.games.example.com");
  });

  it.each(["Survival", "a`b", "a b", "../x", "-x", "x".repeat(64), ""])("refuses the label %j so it can never reach a Traefik rule", (label) => {
    expect(() => hostname({ kind: "GameServer", label }, "zlh.localhost")).toThrow(/invalid host label|longer/);
  });

  it.each(["dev-100", "dev-100-8080"])("refuses the GameServer label %j: it has the shape of a DevEnvironment's name", (label) => {
    expect(() => hostname({ kind: "GameServer", label }, "zlh.localhost")).toThrow(/reserved for DevEnvironments/);
  });

  it.each(["dev", "devbox", "dev-x", "dev-1a"])("allows the GameServer label %j", (label) => {
    expect(hostname({ kind: "GameServer", label }, "zlh.localhost")).toBe(`${label}.zlh.localhost`);
  });
});
