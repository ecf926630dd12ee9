// Wrappers that work on any provider without it knowing: a simulated network delay for the
// benchmark (embedded providers answer in microseconds, real APIs in tens of milliseconds, and
// the engine's concurrency only shows against the latter), and call counting for the
// benchmark's "provider writes per converged resync" and for /metrics.
import { Counter, type Registry } from "prom-client";
import { realClock, type Clock } from "../engine/clock.js";
import type { DnsProvider } from "./dns/types.js";
import type { RouteProvider } from "./routing/types.js";
import type { WorkloadProvider } from "./workload/types.js";

export type AnyProvider = DnsProvider | RouteProvider | WorkloadProvider;

export const WRITE_METHODS: ReadonlySet<string> = new Set(["create", "start", "update", "delete", "apply"]);
export const READ_METHODS: ReadonlySet<string> = new Set(["observe", "list", "listOwned", "listAll"]);

function isProviderMethod(prop: string | symbol): prop is string {
  return typeof prop === "string" && (WRITE_METHODS.has(prop) || READ_METHODS.has(prop));
}

/** `dns`, `routing` or `workload`, told apart by the methods only that interface has. */
export function providerKind(p: object): "dns" | "routing" | "workload" {
  if ("listOwned" in p) return "dns";
  if ("start" in p) return "workload";
  return "routing";
}

// Intercepts the interface methods and binds every other function to the real provider, so
// test hooks such as failNext() still work through the wrapper; `extra` adds members.
function intercept<P extends object>(
  provider: P,
  around: (method: string, call: () => Promise<unknown>) => Promise<unknown>,
  extra: Record<string, unknown> = {},
): P {
  return new Proxy(provider, {
    get(target, prop) {
      if (typeof prop === "string" && Object.hasOwn(extra, prop)) return extra[prop];
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!isProviderMethod(prop)) return fn.bind(target);
      return (...args: unknown[]) => around(prop, async () => fn.apply(target, args));
    },
  });
}

/** Every provider call first waits `ms` on `clock`, like a request to a remote API. */
export function withLatency<P extends object>(provider: P, ms: number, clock: Clock = realClock): P {
  return intercept(provider, async (_method, call) => {
    await clock.sleep(ms);
    return call();
  });
}

export interface CallCounts {
  /** observe/list/listOwned/listAll calls. */
  reads: number;
  /** create/start/update/delete/apply calls (made, whether or not they changed anything). */
  writes: number;
  /** Calls that rejected. */
  errors: number;
  byMethod: Record<string, number>;
}

export type Counted<P> = P & {
  counts(): CallCounts;
  resetCounts(): void;
};

export interface CallCountOptions {
  /** Where `zlh_provider_requests_total` is registered; none by default. */
  registry?: Registry;
  /** The `provider` label; default `<kind>/<name>`, e.g. `dns/file`. */
  label?: string;
}

const METRIC = "zlh_provider_requests_total";

function requestCounter(registry: Registry): Counter<"provider" | "method" | "result"> {
  const existing = registry.getSingleMetric(METRIC);
  if (existing) return existing as Counter<"provider" | "method" | "result">;
  return new Counter({
    name: METRIC,
    help: "Provider calls by provider, method and result (success or error).",
    labelNames: ["provider", "method", "result"] as const,
    registers: [registry],
  });
}

export function withCallCounts<P extends AnyProvider>(provider: P, options: CallCountOptions = {}): Counted<P> {
  const label = options.label ?? `${providerKind(provider)}/${provider.name}`;
  const counter = options.registry ? requestCounter(options.registry) : undefined;
  let counts: CallCounts = { reads: 0, writes: 0, errors: 0, byMethod: {} };

  const extra = {
    counts: (): CallCounts => ({ ...counts, byMethod: { ...counts.byMethod } }),
    resetCounts: (): void => {
      counts = { reads: 0, writes: 0, errors: 0, byMethod: {} };
    },
  };
  const around = async (method: string, call: () => Promise<unknown>): Promise<unknown> => {
    if (WRITE_METHODS.has(method)) counts.writes += 1;
    else counts.reads += 1;
    counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
    try {
      const result = await call();
      counter?.inc({ provider: label, method, result: "success" });
      return result;
    } catch (err) {
      counts.errors += 1;
      counter?.inc({ provider: label, method, result: "error" });
      throw err;
    }
  };
  return intercept(provider, around, extra) as Counted<P>;
}
