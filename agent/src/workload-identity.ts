// How the agent runs a workload process (the game server, a console shell, code-server, dev
// services): as which user, in which sandbox. The agent itself keeps its own identity (root
// in a container or under a root controller) and its token; what it starts gets neither.
//
// The workload provider says what to do through the environment:
//   ZLH_RUN_AS=<uid>:<gid>   run workload processes as this user (the agent must be root)
//   ZLH_SANDBOX=bwrap        confine them with bubblewrap (none: no sandbox, e.g. in a
//                            container, which is the sandbox)
//   ZLH_SANDBOX_HIDE=<a>:<b> directories the sandbox replaces with empty ones (the controller's
//                            data directory); the workload root's parent (every other
//                            workload) and the agent's own files are always hidden
//
// The bwrap sandbox sees the host read-only, its own workload root read-only with `srv/`
// and `home/dev/` writable (at the same paths, so nothing needs rewriting), an empty
// `etc/zlh` (the token) and `run/`, its own /tmp, /proc and /dev, its own pid, IPC and UTS
// namespaces, and the host network (its loopback address must work). Killing the sandbox's
// init (in the process group the agent signals) ends every process in it, including one
// that left the group. There is deliberately no --die-with-parent: a server outlives an
// agent crash and the next agent reattaches to it.
import { chmodSync, lchownSync, lstatSync, mkdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";

export interface RunAs {
  uid: number;
  gid: number;
}

export interface WorkloadIdentity {
  /** Who workload processes run as; undefined: the agent's own user. */
  runAs?: RunAs;
  sandbox: "bwrap" | "none";
  /** The workload root (ZLH_ROOT): what the sandbox shows, partly writable. */
  root?: string;
  /** Directories the sandbox hides, besides the root's parent. */
  hide: string[];
  /** The sandbox's host name (ZLH_HOSTNAME). */
  hostname?: string;
}

/**
 * Every workload process carries this variable naming its workload root (bwrap and the
 * sandbox's init carry it; the sandboxed command does not need to), so the provider can stop
 * every process of a workload, also one no pidfile names.
 */
export const WORKLOAD_MARK_VARIABLE = "ZLH_WORKLOAD_ROOT";

/** Directories of the workload root that workload processes may write (owned by runAs). */
export const WRITABLE_DIRS = ["srv", "home/dev"] as const;
/** Directories of the workload root that are the agent's alone (token, controller URL, pidfiles). */
export const AGENT_DIRS = ["etc/zlh", "run"] as const;

export class WorkloadIdentityError extends Error {
  readonly reason = "InvalidEnvironment";
  constructor(message: string) {
    super(message);
    this.name = "WorkloadIdentityError";
  }
}

/** Reads ZLH_RUN_AS, ZLH_SANDBOX and ZLH_SANDBOX_HIDE; throws naming the first bad one. */
export function readWorkloadIdentity(env: NodeJS.ProcessEnv): WorkloadIdentity {
  const identity: WorkloadIdentity = { sandbox: "none", hide: [] };
  const runAs = env.ZLH_RUN_AS?.trim();
  if (runAs) {
    const m = /^(\d{1,10}):(\d{1,10})$/.exec(runAs);
    const uid = Number(m?.[1]);
    const gid = Number(m?.[2]);
    if (!m || uid < 1 || gid < 1 || uid > 0xfffffffe || gid > 0xfffffffe) {
      throw new WorkloadIdentityError(`ZLH_RUN_AS ${JSON.stringify(runAs)} must be <uid>:<gid>, both positive integers (never root)`);
    }
    identity.runAs = { uid, gid };
  }
  const sandbox = env.ZLH_SANDBOX?.trim() || "none";
  if (sandbox !== "bwrap" && sandbox !== "none") throw new WorkloadIdentityError(`ZLH_SANDBOX ${JSON.stringify(sandbox)} must be bwrap or none`);
  identity.sandbox = sandbox;
  const root = env.ZLH_ROOT?.trim();
  if (root) identity.root = normalize(root);
  if (sandbox === "bwrap") {
    if (!identity.root || !isAbsolute(identity.root) || identity.root === sep) {
      throw new WorkloadIdentityError("ZLH_SANDBOX=bwrap needs ZLH_ROOT, an absolute path below /");
    }
    for (const p of (env.ZLH_SANDBOX_HIDE ?? "").split(":").filter((s) => s !== "")) {
      if (!isAbsolute(p) || normalize(p) === sep) throw new WorkloadIdentityError(`ZLH_SANDBOX_HIDE: ${JSON.stringify(p)} must be an absolute path below /`);
      identity.hide.push(normalize(p));
    }
  }
  const hostname = env.ZLH_HOSTNAME?.trim();
  if (hostname && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(hostname)) identity.hostname = hostname;
  return identity;
}

/** A process the agent wants to start for the workload. */
export interface WorkloadProcess {
  /** argv[0] should be an absolute path (the launcher resolves it against PATH first). */
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
}

/** What to hand to child_process.spawn (or node-pty's spawn): file, args and options. */
export interface WorkloadSpawn {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Set when the identity switch is spawn's job (no sandbox); spawn(file, args, {uid, gid}). */
  uid?: number;
  gid?: number;
}

const isUnder = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * bwrap's mount operations, in order. Paths on the way from a hidden directory down to the
 * workload root are recreated empty (0755) so the workload can reach its own directories;
 * anything else under a hidden directory stays out of sight.
 */
function mountArgs(root: string, hide: readonly string[], exists: (p: string) => boolean): string[] {
  const hidden = [...new Set(["/tmp", dirname(root), ...hide])].filter((h) => !isUnder(h, root));
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  // Outermost first: a hidden directory inside another one is already gone.
  const outer = hidden.sort((a, b) => a.length - b.length).filter((h, i, all) => !all.slice(0, i).some((o) => isUnder(h, o)));
  const chainTop = outer.find((h) => isUnder(root, h));
  for (const h of outer) {
    args.push("--perms", h === "/tmp" ? "1777" : "0755", "--tmpfs", h);
  }
  if (chainTop) {
    const steps: string[] = [];
    for (let p = dirname(root); p !== chainTop && p !== dirname(p); p = dirname(p)) steps.unshift(p);
    for (const p of steps) {
      if (hidden.includes(p)) args.push("--perms", "0755", "--tmpfs", p);
      else args.push("--perms", "0755", "--dir", p);
    }
    args.push("--ro-bind", root, root);
  }
  for (const d of AGENT_DIRS) if (exists(join(root, d))) args.push("--tmpfs", join(root, d));
  for (const d of WRITABLE_DIRS) if (exists(join(root, d))) args.push("--bind", join(root, d), join(root, d));
  return args;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * How to spawn `proc` as the workload: the argv and options that run it as `identity.runAs`
 * in the sandbox. The launcher passes the result to spawn as it is; `detached` and stdio
 * stay the launcher's business.
 */
export function workloadSpawn(identity: WorkloadIdentity, proc: WorkloadProcess, exists: (p: string) => boolean = isDirectory): WorkloadSpawn {
  const [command, ...args] = proc.argv;
  if (!command) throw new WorkloadIdentityError("a workload process needs a command");
  const mark: Record<string, string> = identity.root ? { [WORKLOAD_MARK_VARIABLE]: identity.root } : {};
  if (identity.sandbox === "none") {
    return { file: command, args, cwd: proc.cwd, env: { ...proc.env, ...mark }, ...(identity.runAs ?? {}) };
  }
  const root = identity.root!;
  const dropUser = identity.runAs
    ? ["setpriv", `--reuid=${identity.runAs.uid}`, `--regid=${identity.runAs.gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    : [];
  const bwrap = [
    "bwrap",
    "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    ...(identity.hostname ? ["--hostname", identity.hostname] : []),
    ...mountArgs(root, identity.hide, exists),
    "--chdir", proc.cwd,
    "--unsetenv", WORKLOAD_MARK_VARIABLE,
    "--",
    ...dropUser,
    // Undo the ignored signals below, so the workload gets the stop signals as usual.
    "env", "--default-signal", "--",
    command, ...args,
  ];
  // The agent stops a workload process by signalling its process group, which holds bwrap
  // too; bwrap would die at once on SIGTERM and the agent would take the server for gone
  // while it is still saving. Ignored signals survive exec, so bwrap (and the sandbox's
  // init) ignore them, and `env --default-signal` gives the workload the default back.
  return {
    file: "/bin/sh",
    args: ["-c", 'trap "" TERM INT HUP QUIT; exec "$0" "$@"', ...bwrap],
    cwd: proc.cwd,
    env: { ...proc.env, ...mark },
  };
}

/**
 * Makes the workload's writable directories exist and belong to `runAs` (only the
 * directories themselves, with lchown: never recursively into a tree the workload controls,
 * where a planted symlink could hand a host file over), and keeps the agent's directories
 * the agent's. Call before spawning anything from workloadSpawn.
 */
export function prepareWorkloadDirs(identity: WorkloadIdentity): void {
  const root = identity.root;
  // Without a user or sandbox of its own the workload shares the agent's files anyway.
  if (!root || (identity.sandbox === "none" && !identity.runAs)) return;
  for (const d of AGENT_DIRS) {
    mkdirSync(join(root, d), { recursive: true, mode: 0o700 });
    chmodSync(join(root, d), 0o700);
  }
  // The workload must be able to walk from its root to its own directories (by absolute
  // path too: HOME is one). Root-owned and not writable, so it cannot rearrange them; on the
  // host the 0700 data directory above keeps everyone else out.
  for (const d of ["", "home"]) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), 0o755);
  }
  for (const d of [...WRITABLE_DIRS, "home/dev/workspace"]) {
    const path = join(root, d);
    mkdirSync(path, { recursive: true, mode: 0o755 });
    if (identity.runAs) handOver(identity, path);
  }
}

/**
 * Gives one path the agent created to the workload user (a file an installer wrote into
 * srv/, say). Not for paths the workload could have replaced meanwhile.
 */
export function handOver(identity: WorkloadIdentity, path: string): void {
  if (!identity.runAs) return;
  const st = lstatSync(path);
  if (st.uid !== identity.runAs.uid || st.gid !== identity.runAs.gid) lchownSync(path, identity.runAs.uid, identity.runAs.gid);
}
