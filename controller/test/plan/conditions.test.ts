import { describe, it, expect } from "vitest";
import { derivePhase, readyCondition, setCondition, type ConditionInput } from "../../src/plan/conditions.js";
import type { Condition } from "../../../schemas/generated/types.js";

const t = (type: ConditionInput["type"], status: ConditionInput["status"], reason = "R"): ConditionInput => ({ type, status, reason, message: "m" });
function conds(...inputs: ConditionInput[]): Condition[] {
  return inputs.reduce<Condition[]>((acc, c) => setCondition(acc, c, "2026-01-01T00:00:00Z", 1), []);
}

describe("setCondition", () => {
  it("keeps lastTransitionTime when the status does not change", () => {
    const first = setCondition([], t("DNSReady", "True"), "2026-01-01T00:00:00Z", 1);
    const again = setCondition(first, { ...t("DNSReady", "True"), message: "other" }, "2026-01-02T00:00:00Z", 2);
    expect(again[0]).toMatchObject({ lastTransitionTime: "2026-01-01T00:00:00Z", message: "other", observedGeneration: 2 });
  });

  it("moves lastTransitionTime when the status changes, and keeps a stable order", () => {
    const a = setCondition(conds(t("Ready", "False"), t("WorkloadReady", "True")), t("WorkloadReady", "False"), "2026-01-03T00:00:00Z", 1);
    expect(a.map((c) => c.type)).toEqual(["WorkloadReady", "Ready"]);
    expect(a[0]!.lastTransitionTime).toBe("2026-01-03T00:00:00Z");
  });
});

describe("derivePhase", () => {
  const infra = [t("WorkloadReady", "True"), t("DNSReady", "True"), t("RouteReady", "True")];
  it("is Pending before anything happened", () => expect(derivePhase([], undefined, false)).toBe("Pending"));
  it("is Provisioning while infrastructure is not ready", () => expect(derivePhase(conds(t("WorkloadReady", "True"), t("DNSReady", "Unknown")), undefined, false)).toBe("Provisioning"));
  it("follows the agent: installing → Installing, starting → Starting", () => {
    expect(derivePhase(conds(...infra), "installing", false)).toBe("Installing");
    expect(derivePhase(conds(...infra), "starting", false)).toBe("Starting");
  });
  it("is Running only when the agent runs and its heartbeats arrive", () => {
    expect(derivePhase(conds(...infra, t("AgentReady", "True")), "running", false)).toBe("Running");
    expect(derivePhase(conds(...infra, t("AgentReady", "False", "HeartbeatMissed")), "running", false)).toBe("Starting");
  });
  it("is Error when a provider step failed or the agent gave up", () => {
    expect(derivePhase(conds(t("WorkloadReady", "False", "WorkloadFailed")), undefined, false)).toBe("Error");
    expect(derivePhase(conds(...infra), "error", false)).toBe("Error");
    expect(derivePhase(conds(t("WorkloadReady", "True"), t("DNSReady", "False", "DNSConflict")), undefined, false)).toBe("Error");
    expect(derivePhase(conds(t("WorkloadReady", "False", "WaitingForAddress")), undefined, false)).toBe("Provisioning");
  });
  it("is Terminating once deletion started, whatever else holds", () => expect(derivePhase(conds(...infra), "running", true)).toBe("Terminating"));
});

describe("readyCondition", () => {
  it("is True only when every other condition is True and the server runs", () => {
    expect(readyCondition(conds(t("WorkloadReady", "True"), t("AgentReady", "True")), "running").status).toBe("True");
    const r = readyCondition(conds(t("WorkloadReady", "True"), t("DNSReady", "False", "DNSFailed")), "running");
    expect(r).toMatchObject({ status: "False", reason: "DNSFailed" });
  });

  it("is not True while a healthy agent is still installing or starting the server", () => {
    const all = conds(t("WorkloadReady", "True"), t("AgentReady", "True"));
    expect(readyCondition(all, "installing")).toMatchObject({ status: "Unknown", reason: "ServerInstalling" });
    expect(readyCondition(all, "starting")).toMatchObject({ status: "Unknown", reason: "ServerStarting" });
    expect(readyCondition(all, "error")).toMatchObject({ status: "False", reason: "ServerError" });
  });
});
