// What makes a route writable, shared by the Traefik file provider and its twin so both refuse
// the same routes with the same messages.
import { parseOwnerMark } from "../owner.js";
import { ProviderError } from "../provider-error.js";
import { traefikConfigViolations } from "./traefik-schema.js";
import type { DesiredRoute } from "./types.js";

/** Route names double as file names, so this pattern is also what keeps writes in the directory. */
export const ROUTE_NAME = /^zlh-[a-z0-9_-]+$/;

export function assertRouteName(name: string): void {
  if (typeof name !== "string" || !ROUTE_NAME.test(name) || name.length > 200) {
    throw new ProviderError("Invalid", `route name ${JSON.stringify(name)} must match ${ROUTE_NAME.source} (at most 200 characters)`);
  }
}

/** Throws `Invalid` naming the first failing field; lists up to three. */
export function assertValidRoute(route: DesiredRoute): void {
  assertRouteName(route.name);
  if (!parseOwnerMark(route.ownerMark)) {
    throw new ProviderError("Invalid", `route ${route.name}: owner mark ${JSON.stringify(route.ownerMark)} is not <kind>/<namespace>/<name>/<uid>`);
  }
  const config: unknown = route.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ProviderError("Invalid", `route ${route.name}: config must be an object with http/tcp/udp/tls sections`);
  }
  const violations = traefikConfigViolations(config);
  if (violations.length > 0) {
    const shown = violations.slice(0, 3).map((v) => `${v.path}: ${v.message}`);
    const more = violations.length > 3 ? ` (and ${violations.length - 3} more)` : "";
    throw new ProviderError("Invalid", `route ${route.name} fails the Traefik v3 file-provider schema: ${shown.join("; ")}${more}`);
  }
}

export function handWritten(name: string): ProviderError {
  return new ProviderError("Conflict", `route ${name} exists without an owner mark (written by hand?); zlh will not overwrite or delete it`);
}
