// Prometheus metrics of one API server instance, in its own registry so several servers
// (tests, benchmarks) can run in one process.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "../store/store.js";
import { allResourceTypes } from "./resource-types.js";

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<"verb" | "resource" | "code">;
  duration: Histogram<"verb" | "resource">;
}

export function createApiMetrics(store: Store, watches: { count(): number; slowClosed(): number }): ApiMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "zlh_apiserver_requests_total",
    help: "API requests by verb, resource and HTTP status code",
    labelNames: ["verb", "resource", "code"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "zlh_apiserver_request_duration_seconds",
    help: "Time to answer API requests (watches excluded)",
    labelNames: ["verb", "resource"] as const,
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: "zlh_apiserver_watches",
    help: "Watch streams currently open",
    registers: [registry],
    collect() {
      this.set(watches.count());
    },
  });
  new Gauge({
    name: "zlh_apiserver_watches_closed_slow",
    help: "Watches closed so far because their consumers read too slowly",
    registers: [registry],
    collect() {
      this.set(watches.slowClosed());
    },
  });
  new Gauge({
    name: "zlh_apiserver_stored_objects",
    help: "Objects in the store by resource",
    labelNames: ["resource"] as const,
    registers: [registry],
    async collect() {
      for (const t of allResourceTypes) this.set({ resource: t.plural }, await store.count(t.storeKey));
    },
  });
  return { registry, requests, duration };
}
