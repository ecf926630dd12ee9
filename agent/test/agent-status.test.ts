import { describe, expect, it } from "vitest";
import { combineStatus, type StatusParts } from "../src/agent-status.js";
import type { SupervisorStatus } from "../src/supervisor.js";

const server = (over: Partial<SupervisorStatus> = {}): { name: string; status: SupervisorStatus } => ({
  name: "server",
  status: { state: "running", pid: 42, restarts: 1, provisioningComplete: true, generation: 3, ...over },
});
const parts = (over: Partial<StatusParts>): StatusParts => ({ phase: "provisioned", notes: [], services: [], ...over });

describe("combineStatus", () => {
  it("is installing with the step's progress before the first service exists", () => {
    expect(combineStatus(parts({ phase: "installing", progress: "downloading node", primary: "server", generation: 3 }))).toEqual({
      state: "installing",
      restarts: 0,
      provisioningComplete: false,
      message: "downloading node",
      generation: 3,
      services: [],
    });
  });

  it("takes a game server's state, pid, restarts and generation from the primary service and lists every service", () => {
    const s = combineStatus(parts({ primary: "server", generation: 4, services: [server(), { name: "rcon-bridge", status: { state: "starting", restarts: 0, provisioningComplete: false } }] }));
    expect(s).toEqual({
      state: "running",
      pid: 42,
      restarts: 1,
      provisioningComplete: true,
      generation: 3,
      services: [
        { name: "server", state: "running", pid: 42, restarts: 1 },
        { name: "rcon-bridge", state: "starting", restarts: 0 },
      ],
    });
  });

  it("shows a later provisioning's progress over the running server's message", () => {
    const s = combineStatus(parts({ primary: "server", progress: "installing mods", services: [server({ message: "old" })] }));
    expect(s).toMatchObject({ state: "running", message: "installing mods" });
  });

  it("is error with the provisioning error when a step failed, keeping the old server's pid visible", () => {
    const s = combineStatus(parts({ phase: "failed", primary: "server", provisioningError: "runtime: sha256 mismatch", services: [server()] }));
    expect(s).toMatchObject({ state: "error", provisioningComplete: false, provisioningError: "runtime: sha256 mismatch", message: "runtime: sha256 mismatch", pid: 42 });
  });

  it("a dev environment without a primary service is running once provisioned, with its notes as the message", () => {
    expect(combineStatus(parts({ notes: ["workspace ready", "node 20 active"], generation: 2 }))).toMatchObject({
      state: "running",
      provisioningComplete: true,
      message: "workspace ready; node 20 active",
      generation: 2,
    });
    expect(combineStatus(parts({ phase: "stopped" })).state).toBe("stopped");
  });

  it("clips long messages to what the report schema allows", () => {
    const s = combineStatus(parts({ phase: "failed", provisioningError: "x".repeat(10_000) }));
    expect(s.provisioningError).toHaveLength(4096);
    const svc = combineStatus(parts({ primary: "server", services: [server({ message: "y".repeat(5000) })] }));
    expect(svc.services![0]!.message).toHaveLength(1024);
  });
});
