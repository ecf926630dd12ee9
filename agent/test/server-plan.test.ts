import { describe, expect, it } from "vitest";
import type { GameServerSpec } from "../../schemas/generated/types.js";
import { expandArg, planServer, portVariable } from "../src/server-plan.js";

const base: GameServerSpec = {
  game: "minecraft",
  command: ["java", "-jar", "server.jar", "--host=$(HOST)", "--port", "$(PORT_GAME)", "--rcon=$(PORT_RCON_PORT)"],
  ports: [
    { name: "game", port: 25565 },
    { name: "rcon-port", port: 25575 },
    { name: "voice", port: 24454, protocol: "udp" },
  ],
};
const ctx = { root: "/w/mc", ip: "127.77.0.100", generation: 7, allocated: [], inherited: { PATH: "/usr/bin", ZLH_TOKEN_FILE: "/secret", HOME: "/root" } };

describe("planServer", () => {
  it("names port variables by upper-casing and turning '-' into '_'", () => {
    expect(portVariable("rcon-port")).toBe("PORT_RCON_PORT");
  });

  it("expands $(HOST) and $(PORT_<NAME>) in command arguments", () => {
    expect(planServer(base, ctx).argv).toEqual(["java", "-jar", "server.jar", "--host=127.77.0.100", "--port", "25565", "--rcon=25575"]);
  });

  it("leaves unknown variables as written and turns $$(X) into a literal $(X)", () => {
    expect(expandArg("$(NOPE) $$(HOST) $(HOST)", { HOST: "h" })).toBe("$(NOPE) $(HOST) h");
  });

  it("prefers the port the controller allocated for a name", () => {
    const p = planServer(base, { ...ctx, allocated: [{ name: "game", port: 30000, protocol: "tcp" }] });
    expect(p.argv[5]).toBe("30000");
    expect(p.env.PORT).toBe("30000");
    expect(p.readiness).toEqual({ kind: "tcp", host: "127.77.0.100", port: 30000 });
  });

  it("gives the server spec.env plus HOST, PORT and ZLH_IP, PATH, and never the token file", () => {
    const p = planServer({ ...base, env: { EULA: "true", PORT: "1" } }, ctx);
    expect(p.env).toEqual({ PATH: "/usr/bin", HOME: "/w/mc/srv", EULA: "true", HOST: "127.77.0.100", PORT: "25565", ZLH_IP: "127.77.0.100" });
  });

  it("runs in <root>/srv, logs to <root>/var/log/server.log and applies the documented defaults", () => {
    const p = planServer(base, ctx);
    expect(p).toMatchObject({
      generation: 7,
      cwd: "/w/mc/srv",
      logFile: "/w/mc/var/log/server.log",
      readiness: { kind: "tcp", host: "127.77.0.100", port: 25565 },
      readinessTimeoutMs: 300_000,
      probeIntervalMs: 500,
      backoffMs: [30_000, 60_000, 120_000],
      maxAttempts: 3,
      graceMs: 30_000,
    });
    expect(p.shutdownCommand).toBeUndefined();
  });

  it("defaults the tcp probe to the first tcp port, skipping udp ones", () => {
    const p = planServer({ ...base, ports: [{ name: "voice", port: 24454, protocol: "udp" }, { name: "game", port: 25565 }], command: ["x"] }, ctx);
    expect(p.readiness).toEqual({ kind: "tcp", host: "127.77.0.100", port: 25565 });
  });

  it("uses the declared readiness, restart policy and shutdown settings", () => {
    const p = planServer(
      {
        ...base,
        readiness: { logLine: { pattern: "Done" }, timeoutSeconds: 90 },
        restartPolicy: { backoffSeconds: [5], maxAttempts: 10 },
        shutdown: { command: "stop", graceSeconds: 45 },
      },
      ctx,
    );
    expect(p).toMatchObject({
      readiness: { kind: "logLine", pattern: "Done" },
      readinessTimeoutMs: 90_000,
      backoffMs: [5000],
      maxAttempts: 10,
      shutdownCommand: "stop",
      graceMs: 45_000,
    });
  });
});
