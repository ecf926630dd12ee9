import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { ControllerClient, ControllerError, fetchSpecWithRetry, type AgentSpec, type ControllerApi } from "../src/controller-client.js";
import { FakeClock } from "./fake-clock.js";

const spec: AgentSpec = {
  apiVersion: "zerolaghub.dev/v1alpha1",
  kind: "DevEnvironment",
  metadata: { name: "d", namespace: "default", uid: "u", generation: 1 },
  spec: {},
  ports: [],
  heartbeatSeconds: 10,
};

describe("fetchSpecWithRetry", () => {
  it("keeps retrying with doubling delays capped at the maximum until the controller answers", async () => {
    const clock = new FakeClock(0);
    const attempts: number[] = [];
    const api: ControllerApi = {
      fetchSpec: () => {
        attempts.push(clock.now());
        return attempts.length < 6 ? Promise.reject(new ControllerError("Unreachable", "down")) : Promise.resolve(spec);
      },
      postReport: () => Promise.resolve({ generation: 1 }),
    };
    const result = fetchSpecWithRetry(api, { clock, logger: pino({ level: "silent" }), initialDelayMs: 1000, maxDelayMs: 4000 });
    await clock.advance(20_000);
    expect(await result).toEqual(spec);
    expect(attempts).toEqual([0, 1000, 3000, 7000, 11000, 15000]);
  });

  it("returns undefined when aborted while waiting", async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const api: ControllerApi = {
      fetchSpec: () => Promise.reject(new ControllerError("Unreachable", "down")),
      postReport: () => Promise.resolve({ generation: 1 }),
    };
    const result = fetchSpecWithRetry(api, { clock, logger: pino({ level: "silent" }), signal: ac.signal });
    await clock.flush();
    ac.abort();
    expect(await result).toBeUndefined();
  });
});

describe("ControllerClient", () => {
  it("reports an unreachable controller with reason Unreachable", async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const client = new ControllerClient("http://127.0.0.1:1", { plural: "gameservers", namespace: "default", name: "x" }, "zlha.t");
    await expect(client.fetchSpec()).rejects.toMatchObject({ reason: "Unreachable" });
  });
});
