// Stands in for the agents of workloads created by the in-memory provider: each new
// workload's "agent" reports running through the real agent endpoint (HTTP, token, schema).
import { pluralOf } from "../controller/src/plan/resource.js";
import type { DesiredWorkload, WorkloadProvider } from "../controller/src/providers/workload/types.js";

export function withSimulatedAgents<P extends WorkloadProvider>(provider: P): P {
  const create = provider.create.bind(provider);
  provider.create = async (desired: DesiredWorkload) => {
    const observed = await create(desired);
    void report(desired);
    return observed;
  };
  return provider;
}

async function report(d: DesiredWorkload): Promise<void> {
  const { kind, namespace, name } = d.owner;
  const url = `${d.agent.controllerUrl}/agent/v1/${pluralOf(kind)}/${namespace}/${name}/report`;
  const body = { state: "running", pid: 4242, restarts: 0, provisioningComplete: true, version: "bench", time: new Date().toISOString() };
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${d.agent.token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (res.ok) return;
    // The endpoint answers 404 until the informer cache has the object: retry briefly.
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`simulated agent for ${name} could not report`);
}
