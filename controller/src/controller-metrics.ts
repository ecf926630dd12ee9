// Prometheus metrics of the controller (served at /metrics on the agent endpoint's port).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { QueueMetrics } from "./engine/workqueue.js";

export interface ControllerMetrics {
  registry: Registry;
  queue: QueueMetrics;
  /** Wraps a reconcile call: counts it by result and times it. */
  observeReconcile<T>(kind: string, run: () => Promise<T>): Promise<T>;
}

export function controllerMetrics(): ControllerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "zlh_controller_" });
  const depth = new Gauge({ name: "zlh_workqueue_depth", help: "Keys waiting in the work queue.", registers: [registry] });
  const adds = new Counter({ name: "zlh_workqueue_adds_total", help: "Keys added to the work queue.", registers: [registry] });
  const retries = new Counter({ name: "zlh_workqueue_retries_total", help: "Rate-limited re-adds after a failed reconcile.", registers: [registry] });
  const reconciles = new Counter({ name: "zlh_reconcile_total", help: "Reconciles by resource kind and result.", labelNames: ["kind", "result"] as const, registers: [registry] });
  const duration = new Histogram({
    name: "zlh_reconcile_duration_seconds",
    help: "Time spent in one reconcile, provider calls included.",
    labelNames: ["kind"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    registry,
    queue: { setDepth: (n) => depth.set(n), incAdds: () => adds.inc(), incRetries: () => retries.inc() },
    async observeReconcile(kind, run) {
      const end = duration.startTimer({ kind });
      try {
        const r = await run();
        reconciles.inc({ kind, result: "success" });
        return r;
      } catch (err) {
        reconciles.inc({ kind, result: "error" });
        throw err;
      } finally {
        end();
      }
    },
  };
}
