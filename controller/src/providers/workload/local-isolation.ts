// What confines local workloads: decided once per provider from who the controller runs as
// and whether bubblewrap works here, then handed to each agent as ZLH_RUN_AS / ZLH_SANDBOX /
// ZLH_SANDBOX_HIDE (agent/src/workload-identity.ts does the confining).
//
//   controller as root, bwrap works  each workload runs as uid/gid uids.from + vmid, in a
//                                    sandbox that hides the data directory, the other
//                                    workloads and its agent's token
//   controller as root, no bwrap     refused (sandbox: auto|bwrap): root workloads with
//                                    nothing between them and the admin token are not an
//                                    accident zlh lets happen; `sandbox: none` opts in
//   not root, bwrap works            the same sandbox, as the controller's own user (files
//                                    hidden by mounts; no separate uid)
//   not root, no bwrap               unconfined, with a warning (auto), refused (bwrap)
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { ProviderError } from "../provider-error.js";

export type SandboxChoice = "auto" | "bwrap" | "none";

export interface IsolationOptions {
  /** Where per-workload uids (and gids) come from: uid = from + vmid, at most `to`. */
  uids?: { from: number; to: number };
  sandbox?: SandboxChoice;
  /** Directories workloads must not see besides the workload root (the data directory). */
  hide?: readonly string[];
}

export const DEFAULT_UIDS = { from: 200_000, to: 265_535 };

/** What one workload's agent is told. */
export interface WorkloadConfinement {
  runAs?: { uid: number; gid: number };
  sandbox: "bwrap" | "none";
}

export interface IsolationMode {
  runAsUsers: boolean;
  sandbox: "bwrap" | "none";
  /** Why this mode, for the log line and docs/isolation.md. */
  summary: string;
  /** Set when workloads cannot be started at all in this configuration. */
  refusal?: string;
}

/** Whether an unprivileged-style bwrap sandbox starts here, and if not, what it said. */
export function probeBwrap(): { ok: boolean; detail: string } {
  const r = spawnSync("bwrap", ["--unshare-pid", "--unshare-ipc", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "true"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (r.error) return { ok: false, detail: `bwrap cannot run: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  if (r.status !== 0) return { ok: false, detail: `bwrap fails: ${(r.stderr || `exit ${r.status}`).trim().split("\n")[0]}` };
  return { ok: true, detail: "bwrap works" };
}

export function decideIsolation(choice: SandboxChoice, isRoot: boolean, bwrap: { ok: boolean; detail: string }): IsolationMode {
  if (choice === "none") {
    return { runAsUsers: false, sandbox: "none", summary: `none (sandbox: none): workloads run as ${isRoot ? "root" : "the controller's user"} and can read everything it can` };
  }
  if (bwrap.ok) {
    return isRoot
      ? { runAsUsers: true, sandbox: "bwrap", summary: "own uid per workload in a bwrap sandbox" }
      : { runAsUsers: false, sandbox: "bwrap", summary: "bwrap sandbox as the controller's user (no own uid: the controller is not root)" };
  }
  if (isRoot || choice === "bwrap") {
    return {
      runAsUsers: false,
      sandbox: "none",
      summary: `refused: ${bwrap.detail}`,
      refusal: `workloads cannot be isolated: ${bwrap.detail}. Install bubblewrap, or set providers.workload.sandbox: none to run them unconfined${isRoot ? " as root" : ""}`,
    };
  }
  return { runAsUsers: false, sandbox: "none", summary: `none (${bwrap.detail}): workloads run as the controller's user and can read everything it can` };
}

/** uids and gids that belong to a named account or group here: never handed to a workload. */
function namedIds(): Set<string> {
  const ids = new Set<string>();
  for (const [file, kind] of [["/etc/passwd", "u"], ["/etc/group", "g"]] as const) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const id = line.split(":")[2];
      if (id && /^\d+$/.test(id)) ids.add(`${kind}${id}`);
    }
  }
  return ids;
}

export class LocalIsolation {
  private mode: IsolationMode | undefined;
  private readonly uids: { from: number; to: number };

  constructor(
    private readonly options: IsolationOptions,
    private readonly logger?: Logger,
    private readonly probe: () => { ok: boolean; detail: string } = probeBwrap,
    private readonly isRoot: boolean = process.getuid?.() === 0,
  ) {
    this.uids = options.uids ?? DEFAULT_UIDS;
  }

  /** Decided on first use (it runs bwrap once) and logged once. */
  current(): IsolationMode {
    if (!this.mode) {
      this.mode = decideIsolation(this.options.sandbox ?? "auto", this.isRoot, this.probe());
      const log = this.mode.refusal || this.mode.sandbox === "none" ? this.logger?.warn.bind(this.logger) : this.logger?.info.bind(this.logger);
      log?.({ isolation: this.mode.summary }, "workload isolation");
    }
    return this.mode;
  }

  /** The confinement of workload `vmid`; throws when workloads may not start here. */
  confinementOf(vmid: number): WorkloadConfinement {
    const mode = this.current();
    if (mode.refusal) throw new ProviderError("Unavailable", mode.refusal);
    if (!mode.runAsUsers) return { sandbox: mode.sandbox };
    const uid = this.uids.from + vmid;
    if (uid > this.uids.to) {
      throw new ProviderError("Invalid", `vmid ${vmid} needs uid ${uid}, beyond providers.workload.uids.to (${this.uids.to})`);
    }
    const named = namedIds();
    if (named.has(`u${uid}`) || named.has(`g${uid}`)) {
      throw new ProviderError("Conflict", `uid/gid ${uid} for vmid ${vmid} belongs to an account of this host (/etc/passwd or /etc/group); move providers.workload.uids`);
    }
    return { runAs: { uid, gid: uid }, sandbox: mode.sandbox };
  }

  /** The agent's ZLH_RUN_AS / ZLH_SANDBOX / ZLH_SANDBOX_HIDE for this confinement. */
  environment(c: WorkloadConfinement): Record<string, string> {
    const env: Record<string, string> = { ZLH_SANDBOX: c.sandbox };
    if (c.runAs) env.ZLH_RUN_AS = `${c.runAs.uid}:${c.runAs.gid}`;
    if (c.sandbox === "bwrap" && this.options.hide?.length) env.ZLH_SANDBOX_HIDE = this.options.hide.join(":");
    return env;
  }
}
