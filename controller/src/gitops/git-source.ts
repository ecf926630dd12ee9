// git sources through the system `git` binary: one repository per Sync under the cache
// directory, fetched on every run, its work tree checked out at the ref's commit. The
// commit SHA is the revision. ssh credentials come from files named in the spec and are
// handed to ssh by path; no secret is ever on a command line, in a log or in status.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { SyncGitSource } from "../../../schemas/generated/types.js";
import type { FetchedSource } from "./sync-reconciler.js";

const GIT_TIMEOUT_MS = 120_000;

function quoteForSsh(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The environment git runs in: never prompts, never reads the user's config for credentials. */
function gitEnv(src: SyncGitSource): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
  const ref = src.secretRef;
  if (ref?.sshKeyFile || ref?.knownHostsFile) {
    const parts = ["ssh", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"];
    if (ref.sshKeyFile) parts.push("-i", quoteForSsh(ref.sshKeyFile));
    if (ref.knownHostsFile) parts.push("-o", `UserKnownHostsFile=${quoteForSsh(ref.knownHostsFile)}`, "-o", "StrictHostKeyChecking=yes");
    env.GIT_SSH_COMMAND = parts.join(" ");
  }
  return env;
}

/** A Sync's repository: the git directory apart from the work tree, so the tree holds only the repository's files. */
interface Checkout {
  gitDir: string;
  tree: string;
}

function git(args: string[], at: Checkout | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const where = at ? [`--git-dir=${at.gitDir}`, `--work-tree=${at.tree}`] : [];
  return new Promise((resolve, reject) => {
    execFile("git", [...where, ...args], { cwd: at?.tree ?? "/", env, timeout: GIT_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        // The last line git prints says why (e.g. "fatal: couldn't find remote ref nope").
        const why = String(stderr).trim().split("\n").filter(Boolean).pop() ?? err.message;
        reject(new Error(`git ${args[0]}: ${why}`));
      } else resolve(String(stdout).trim());
    });
  });
}

export class GitCache {
  /** One fetch at a time per repository directory. */
  private readonly busy = new Map<string, Promise<unknown>>();
  constructor(private readonly root: string, private readonly log: Logger) {}

  /** Fetches `src` into the Sync's repository and checks out the ref's commit. */
  fetch(key: string, uid: string, src: SyncGitSource): Promise<FetchedSource> {
    const dir = join(this.root, createHash("sha256").update(uid).digest("hex").slice(0, 16));
    const prev = this.busy.get(dir) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.fetchNow(key, { gitDir: join(dir, "git"), tree: join(dir, "tree") }, src));
    this.busy.set(dir, next);
    return next;
  }

  private async fetchNow(key: string, dir: Checkout, src: SyncGitSource): Promise<FetchedSource> {
    const env = gitEnv(src);
    const ref = src.ref ?? "main";
    if (!existsSync(join(dir.gitDir, "HEAD"))) {
      mkdirSync(dir.tree, { recursive: true, mode: 0o700 });
      await git(["init", "-q", "--bare", dir.gitDir], undefined, env);
      await git(["config", "core.bare", "false"], dir, env);
    }
    // The URL is set on every run: a Sync whose spec.source.git.url changed fetches the new one.
    await git(["config", "remote.origin.url", src.url], dir, env);
    await git(["fetch", "-q", "--prune", "--force", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"], dir, env);
    const sha = await this.resolve(dir, ref, env);
    await git(["-c", "advice.detachedHead=false", "checkout", "-q", "--force", "--detach", sha], dir, env);
    await git(["clean", "-q", "-fdx"], dir, env);
    this.log.debug({ sync: key, ref, revision: sha }, "git source fetched");
    return { dir: dir.tree, revision: sha };
  }

  /** A branch first (as Flux's `branch`), then a tag, then a commit SHA. */
  private async resolve(dir: Checkout, ref: string, env: NodeJS.ProcessEnv): Promise<string> {
    for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
      try {
        return await git(["rev-parse", "--verify", "-q", `${candidate}^{commit}`], dir, env);
      } catch {
        // try the next spelling
      }
    }
    throw new Error(`ref ${JSON.stringify(ref)} is not a branch, tag or commit of the repository`);
  }
}
