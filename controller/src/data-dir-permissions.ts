// Every server start puts the data directory's modes back to what they were created with:
// an operator's `chmod -R a+rX` or a restore from a backup that lost modes would otherwise
// leave the admin token, the agent secret and the TLS key readable by every local user
// (and by workloads, should their sandbox be off). Modes only; owners are the operator's.
import { chmodSync, lstatSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { KUBECONFIG_FILE, TLS_KEY_FILE, TOKEN_FILE } from "./api/credentials.js";

/** The data directory's secrets (relative names); each must be 0600. */
export const SECRET_FILES = [TOKEN_FILE, "agent.secret", TLS_KEY_FILE, KUBECONFIG_FILE] as const;

export interface Tightened {
  path: string;
  from: number;
  to: number;
}

function tighten(path: string, want: number, kind: "dir" | "file"): Tightened | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  // A symlink is not followed: chmod would change whatever it points to.
  if (!st || (kind === "dir" ? !st.isDirectory() : !st.isFile())) return undefined;
  const mode = st.mode & 0o7777;
  if (mode === want) return undefined;
  chmodSync(path, want);
  return { path, from: mode, to: want };
}

/** Sets the data directory to 0700 and its secrets to 0600; returns (and logs) what changed. */
export function tightenDataDir(dataDir: string, logger?: Logger): Tightened[] {
  const changed: Tightened[] = [];
  const dir = tighten(dataDir, 0o700, "dir");
  if (dir) changed.push(dir);
  for (const name of SECRET_FILES) {
    const t = tighten(join(dataDir, name), 0o600, "file");
    if (t) changed.push(t);
  }
  for (const t of changed) {
    logger?.warn({ path: t.path, from: t.from.toString(8), to: t.to.toString(8) }, "loosened permissions tightened");
  }
  return changed;
}
