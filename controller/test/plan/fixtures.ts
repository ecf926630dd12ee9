import type { GameServer, DevEnvironment } from "../../../schemas/generated/types.js";
import type { PlanSettings } from "../../src/plan/resource.js";

export const settings: PlanSettings = { zone: "zlh.localhost", ttl: 60, httpEntryPoint: "websecure" };
export const edge: PlanSettings = { ...settings, zone: "games.example.com", edgeAddress: "203.0.113.10", certResolver: "le" };

export function gameServer(over: Partial<GameServer["spec"]> = {}, name = "mc1"): GameServer {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name, namespace: "default", uid: "uid-1", generation: 1 },
    spec: { game: "minecraft", command: ["java", "-jar", "server.jar"], ports: [{ name: "game", port: 25565 }], ...over },
  };
}

export function devEnv(over: Partial<DevEnvironment["spec"]> = {}, name = "dev1"): DevEnvironment {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "DevEnvironment",
    metadata: { name, namespace: "team-a", uid: "uid-2", generation: 1 },
    spec: { ports: [{ port: 8080, expose: true }, { port: 9229 }], ...over },
  };
}
