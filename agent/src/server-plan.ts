// Pure translation of a GameServer spec into what the supervisor runs: no I/O, so the
// expansion rules and defaults are tested as a table.
import { join } from "node:path";
import type { AllocatedPort, GameServerSpec } from "../../schemas/generated/types.js";

export type ReadinessPlan =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "logLine"; pattern: string };

export interface ServerPlan {
  generation: number;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  readiness: ReadinessPlan;
  readinessTimeoutMs: number;
  probeIntervalMs: number;
  backoffMs: number[];
  maxAttempts: number;
  shutdownCommand?: string;
  graceMs: number;
}

export interface PlanContext {
  root: string;
  ip: string;
  generation: number;
  /** status.ports from the controller: where it says a named port lives, that wins. */
  allocated: AllocatedPort[];
  /** Variables passed through from the agent's own environment (PATH, LANG…). */
  inherited: Record<string, string | undefined>;
}

export const DEFAULT_BACKOFF_SECONDS = [30, 60, 120];
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_GRACE_SECONDS = 30;
export const DEFAULT_READINESS_TIMEOUT_SECONDS = 300;
export const PROBE_INTERVAL_MS = 500;
// Never the token file or controller URL: the server process has no business with them.
export const INHERITED_VARIABLES = ["PATH", "LANG", "LC_ALL", "TZ"];

export function workloadPaths(root: string) {
  return {
    srv: join(root, "srv"),
    logFile: join(root, "var", "log", "server.log"),
    pidFile: join(root, "run", "server.pid"),
    workspace: join(root, "home", "dev", "workspace"),
  };
}

/** `game-port` → `PORT_GAME_PORT`. */
export function portVariable(name: string): string {
  return `PORT_${name.toUpperCase().replace(/-/g, "_")}`;
}

/** Resolved number of every declared port, by name. */
export function resolvePorts(spec: GameServerSpec, allocated: AllocatedPort[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of spec.ports) out.set(p.name, allocated.find((a) => a.name === p.name)?.port ?? p.port);
  return out;
}

/**
 * Expands `$(HOST)` and `$(PORT_<NAME>)` in one argument. `$$(X)` is a literal `$(X)`, and
 * an unknown `$(X)` is left as written (as Kubernetes does), so the server sees the typo.
 */
export function expandArg(arg: string, vars: Record<string, string>): string {
  return arg.replace(/\$(\$?)\(([A-Z0-9_]+)\)/g, (whole, escape: string, name: string) => {
    if (escape) return whole.slice(1);
    return vars[name] ?? whole;
  });
}

export function planServer(spec: GameServerSpec, ctx: PlanContext): ServerPlan {
  const paths = workloadPaths(ctx.root);
  const ports = resolvePorts(spec, ctx.allocated);
  const vars: Record<string, string> = { HOST: ctx.ip };
  for (const [name, port] of ports) vars[portVariable(name)] = String(port);

  const firstPort = ports.get(spec.ports[0]!.name)!;
  const env: Record<string, string> = {};
  for (const k of INHERITED_VARIABLES) {
    const v = ctx.inherited[k];
    if (v !== undefined) env[k] = v;
  }
  env.HOME = paths.srv;
  Object.assign(env, spec.env ?? {});
  Object.assign(env, { HOST: ctx.ip, PORT: String(firstPort), ZLH_IP: ctx.ip });

  let readiness: ReadinessPlan;
  if (spec.readiness?.logLine) {
    readiness = { kind: "logLine", pattern: spec.readiness.logLine.pattern };
  } else {
    // The schema check guarantees a tcp port exists when there is no logLine probe.
    const declared = spec.readiness?.tcp?.port ?? spec.ports.find((p) => (p.protocol ?? "tcp") === "tcp")!.port;
    const named = spec.ports.find((p) => p.port === declared && (p.protocol ?? "tcp") === "tcp");
    readiness = { kind: "tcp", host: ctx.ip, port: named ? ports.get(named.name)! : declared };
  }

  const backoff = spec.restartPolicy?.backoffSeconds?.length ? spec.restartPolicy.backoffSeconds : DEFAULT_BACKOFF_SECONDS;
  return {
    generation: ctx.generation,
    argv: spec.command.map((a) => expandArg(a, vars)),
    env,
    cwd: paths.srv,
    logFile: paths.logFile,
    readiness,
    readinessTimeoutMs: (spec.readiness?.timeoutSeconds ?? DEFAULT_READINESS_TIMEOUT_SECONDS) * 1000,
    probeIntervalMs: PROBE_INTERVAL_MS,
    backoffMs: backoff.map((s) => s * 1000),
    maxAttempts: spec.restartPolicy?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(spec.shutdown?.command ? { shutdownCommand: spec.shutdown.command } : {}),
    graceMs: (spec.shutdown?.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000,
  };
}
