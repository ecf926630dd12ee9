// Pure translation of a GameServer spec into what the supervisor runs: no I/O, so the
// expansion rules and defaults are tested as a table.
import { join } from "node:path";
import type { AllocatedPort, GameServerSpec } from "../../schemas/generated/types.js";

export type ReadinessPlan =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "logLine"; pattern: string };

/**
 * What a supervisor runs: the game server, or any other supervised process of the workload
 * (code-server, dev services). Everything the process depends on is in here, so a change in
 * the plan is a change of the process's inputs.
 */
export interface ServicePlan {
  /** "server" for the game server; names the service's files under run/ and var/log/. */
  name: string;
  generation: number;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  /** Where the supervisor records the running process (see pidfile.ts). */
  pidFile: string;
  readiness: ReadinessPlan;
  readinessTimeoutMs: number;
  probeIntervalMs: number;
  backoffMs: number[];
  maxAttempts: number;
  shutdownCommand?: string;
  graceMs: number;
  /**
   * Inputs contributed by provisioning steps (a runtime's version and hash, the mods
   * installed…): opaque to the supervisor, but a change restarts the service.
   */
  inputs?: Record<string, string>;
}

/** The game server's plan. */
export type ServerPlan = ServicePlan;

/** The service name of the game server. */
export const SERVER_SERVICE = "server";

export interface PlanContext {
  root: string;
  ip: string;
  generation: number;
  /** status.ports from the controller: where it says a named port lives, that wins. */
  allocated: AllocatedPort[];
  /** Variables passed through from the agent's own environment (PATH, LANG…). */
  inherited: Record<string, string | undefined>;
  /** Directories provisioning put in front of PATH (active runtimes' bin directories). */
  pathPrepend?: readonly string[];
  /** Variables provisioning adds; the spec's own env wins over them. */
  env?: Record<string, string>;
  /** Inputs provisioning contributed (see ServicePlan.inputs). */
  inputs?: Record<string, string>;
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
    runDir: join(root, "run"),
    logDir: join(root, "var", "log"),
    workspace: join(root, "home", "dev", "workspace"),
  };
}

/** Files of one supervised service: `run/<name>.pid`, `var/log/<name>.log`. */
export function servicePaths(root: string, name: string): { pidFile: string; logFile: string } {
  const p = workloadPaths(root);
  return { pidFile: join(p.runDir, `${name}.pid`), logFile: join(p.logDir, `${name}.log`) };
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
  Object.assign(env, ctx.env ?? {});
  if (ctx.pathPrepend?.length) env.PATH = [...ctx.pathPrepend, ...(env.PATH ? [env.PATH] : [])].join(":");
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
  const files = servicePaths(ctx.root, SERVER_SERVICE);
  return {
    name: SERVER_SERVICE,
    generation: ctx.generation,
    argv: spec.command.map((a) => expandArg(a, vars)),
    env,
    cwd: paths.srv,
    logFile: files.logFile,
    pidFile: files.pidFile,
    readiness,
    readinessTimeoutMs: (spec.readiness?.timeoutSeconds ?? DEFAULT_READINESS_TIMEOUT_SECONDS) * 1000,
    probeIntervalMs: PROBE_INTERVAL_MS,
    backoffMs: backoff.map((s) => s * 1000),
    maxAttempts: spec.restartPolicy?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(spec.shutdown?.command ? { shutdownCommand: spec.shutdown.command } : {}),
    graceMs: (spec.shutdown?.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000,
    ...(ctx.inputs && Object.keys(ctx.inputs).length > 0 ? { inputs: { ...ctx.inputs } } : {}),
  };
}
