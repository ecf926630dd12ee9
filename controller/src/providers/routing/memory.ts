// The routing twin: same validation as the Traefik file provider (route-rules.ts), no disk,
// plus hooks for reconciler tests (inject failures, seed foreign routes, count writes).
import { FailureInjector } from "../failure-injection.js";
import type { ProviderErrorReason } from "../provider-error.js";
import { assertRouteName, assertValidRoute, handWritten } from "./route-rules.js";
import type { DesiredRoute, ObservedRoute, RouteProvider } from "./types.js";

export class MemoryRouteProvider implements RouteProvider {
  readonly name = "memory";
  /** Calls that changed a route (re-applying identical content is not a write). */
  writes = 0;
  private readonly state = new Map<string, ObservedRoute>();
  private readonly failures = new FailureInjector();

  failNext(n: number, message: string, options?: { reason?: ProviderErrorReason; methods?: readonly string[] }): void {
    this.failures.failNext(n, message, options);
  }

  setFailing(message: string | undefined, reason?: ProviderErrorReason): void {
    this.failures.setFailing(message, reason);
  }

  /** Adds a route as if someone else had written it (no owner mark = hand-written). Not a write. */
  seed(route: ObservedRoute): void {
    this.state.set(route.name, structuredClone(route));
  }

  /** Every route, ours and foreign. */
  routes(): ObservedRoute[] {
    return [...this.state.values()].map((r) => structuredClone(r));
  }

  async observe(names: readonly string[]): Promise<ObservedRoute[]> {
    this.failures.check("observe");
    for (const name of names) assertRouteName(name);
    const out: ObservedRoute[] = [];
    for (const name of new Set(names)) {
      const r = this.state.get(name);
      if (r) out.push(structuredClone(r));
    }
    return out;
  }

  async apply(route: DesiredRoute): Promise<void> {
    this.failures.check("apply");
    assertValidRoute(route);
    const existing = this.state.get(route.name);
    if (existing && existing.ownerMark === undefined) throw handWritten(route.name);
    if (existing && existing.ownerMark === route.ownerMark && JSON.stringify(existing.config) === JSON.stringify(route.config)) return;
    this.state.set(route.name, { name: route.name, ownerMark: route.ownerMark, config: structuredClone(route.config) });
    this.writes += 1;
  }

  async delete(name: string): Promise<void> {
    this.failures.check("delete");
    assertRouteName(name);
    const existing = this.state.get(name);
    if (!existing) return;
    if (existing.ownerMark === undefined) throw handWritten(name);
    this.state.delete(name);
    this.writes += 1;
  }

  async list(): Promise<ObservedRoute[]> {
    this.failures.check("list");
    return [...this.state.values()].filter((r) => r.ownerMark !== undefined).map((r) => structuredClone(r));
  }
}
