// `zlh sync create|suspend|resume|reconcile`: the Flux CLI's verbs for Syncs. Each is one
// read and one write of the Sync object; the controller does the rest.
import { resolve } from "node:path";
import type { Sync } from "../../../schemas/generated/types.js";
import { validateDocument } from "../../../schemas/validate.js";
import { REQUESTED_AT_ANNOTATION } from "../gitops/inventory.js";
import { API_VERSION } from "../plan/resource.js";
import { CliError } from "./cli-error.js";
import type { CliIO } from "./cli-io.js";
import { connect, type ConnectionOptions } from "./connection.js";
import { SYNC_KIND, resourceRef } from "./kinds.js";
import { ResourceClient } from "./resource-client.js";

export interface SyncCreateOptions extends ConnectionOptions {
  path?: string;
  git?: string;
  ref?: string;
  subdir?: string;
  interval?: string;
  prune?: boolean;
  targetNamespace?: string;
  sshKeyFile?: string;
  knownHostsFile?: string;
}

/** The Sync `zlh sync create` would send, checked against the schema so a bad flag names itself. */
export function syncFromFlags(name: string, namespace: string, o: SyncCreateOptions): Sync {
  if ((o.path === undefined) === (o.git === undefined)) throw new CliError("InvalidArgument", "give exactly one source: --path DIR or --git URL");
  if (o.git === undefined && (o.ref || o.sshKeyFile || o.knownHostsFile)) throw new CliError("InvalidArgument", "--ref, --ssh-key-file and --known-hosts-file go with --git");
  const secretRef = o.sshKeyFile || o.knownHostsFile
    ? { ...(o.sshKeyFile ? { sshKeyFile: resolve(o.sshKeyFile) } : {}), ...(o.knownHostsFile ? { knownHostsFile: resolve(o.knownHostsFile) } : {}) }
    : undefined;
  const source: Sync["spec"]["source"] = o.path !== undefined
    ? { path: resolve(o.path) }
    : { git: { url: o.git!, ref: o.ref ?? "main", ...(secretRef ? { secretRef } : {}) } };
  const sync: Sync = {
    apiVersion: API_VERSION as Sync["apiVersion"],
    kind: "Sync",
    metadata: { name, namespace },
    spec: {
      source,
      ...(o.subdir ? { path: o.subdir } : {}),
      interval: o.interval ?? "1m",
      prune: o.prune ?? true,
      ...(o.targetNamespace ? { targetNamespace: o.targetNamespace } : {}),
    },
  };
  const errors = validateDocument("Sync", sync);
  if (errors.length > 0) {
    const flag: Record<string, string> = { ".spec.interval": "--interval", ".spec.targetNamespace": "--target-namespace", ".metadata.name": "NAME", ".spec.source.git.ref": "--ref", ".spec.path": "--subdir" };
    throw new CliError("InvalidArgument", errors.map((e) => `${flag[e.path] ?? e.path}: ${e.message}`).join("; "));
  }
  return sync;
}

export async function syncCreateCommand(io: CliIO, name: string, o: SyncCreateOptions): Promise<number> {
  const conn = connect(o, io.env);
  const sync = syncFromFlags(name, conn.namespace, o);
  await new ResourceClient(conn).create(SYNC_KIND, conn.namespace, sync, resourceRef("Sync", name));
  io.out(`${resourceRef("Sync", name)} created`);
  return 0;
}

type Change = "suspend" | "resume" | "reconcile";

async function change(io: CliIO, name: string, o: ConnectionOptions, what: Change, now: () => number): Promise<number> {
  const conn = connect(o, io.env);
  const client = new ResourceClient(conn);
  const ref = resourceRef("Sync", name);
  const sync = (await client.get(SYNC_KIND, conn.namespace, name, ref)) as Sync | undefined;
  if (!sync) {
    io.err(`syncs.zerolaghub.dev "${name}" not found`);
    return 1;
  }
  if (what === "reconcile") {
    if (sync.spec.suspend) throw new CliError("InvalidArgument", `${ref} is suspended: resume it first`);
    sync.metadata.annotations = { ...(sync.metadata.annotations ?? {}), [REQUESTED_AT_ANNOTATION]: new Date(now()).toISOString() };
  } else {
    sync.spec.suspend = what === "suspend";
  }
  await client.replace(SYNC_KIND, conn.namespace, name, sync, ref);
  io.out(`${ref} ${what === "reconcile" ? "reconcile requested" : what === "suspend" ? "suspended" : "resumed"}`);
  return 0;
}

export const syncChangeCommand = (io: CliIO, name: string, o: ConnectionOptions, what: Change): Promise<number> => change(io, name, o, what, () => io.clock.now());
