// `zlh delete`: by kind and names, or every object in manifests; `--wait` follows each
// one until the controller has cleaned up and removed its finalizer.
import { parseDuration } from "./ages.js";
import { CliError } from "./cli-error.js";
import type { CliIO } from "./cli-io.js";
import { connect, type ConnectionOptions } from "./connection.js";
import { kindInfo, resolveKinds, resourceRef } from "./kinds.js";
import { formatManifestError } from "./manifest-error.js";
import { formatSkipped, loadManifests } from "./manifest-loader.js";
import { ResourceClient } from "./resource-client.js";
import { waitForDeletion, type WaitTarget } from "./wait.js";

export interface DeleteOptions extends ConnectionOptions {
  filename?: string[];
  recursive?: boolean;
  wait?: boolean;
  timeout?: string;
  ignoreNotFound?: boolean;
  all?: boolean;
  allNamespaces?: boolean;
}

export async function deleteCommand(io: CliIO, args: string[], opts: DeleteOptions): Promise<number> {
  const timeoutMs = parseDuration(opts.timeout ?? "5m");
  const fromFiles = (opts.filename?.length ?? 0) > 0;
  if (fromFiles && args.length > 0) throw new CliError("InvalidArgument", "give either KIND NAME… or -f FILE, not both");
  if (opts.all && (fromFiles || args.length !== 1)) throw new CliError("InvalidArgument", "--all takes exactly one KIND argument (e.g. `zlh delete all --all`)");
  if (opts.allNamespaces && !opts.all) throw new CliError("InvalidArgument", "-A goes with --all");
  if (!fromFiles && !opts.all && args.length < 2) throw new CliError("InvalidArgument", "delete needs KIND and at least one NAME (or -f FILE, or KIND --all)");

  const conn = connect(opts, io.env);
  let targets: WaitTarget[];
  if (fromFiles) {
    // Only kind and name matter for deleting; a manifest that no longer validates must still be deletable.
    const loaded = loadManifests(opts.filename!, { recursive: opts.recursive, defaultNamespace: conn.namespace, validate: false });
    if (!loaded.ok) {
      for (const e of loaded.errors) io.err(formatManifestError(e));
      return 1;
    }
    for (const note of loaded.skipped) io.err(formatSkipped(note));
    targets = loaded.manifests.map((m) => ({ kind: m.kind, namespace: m.namespace, name: m.name }));
  } else if (opts.all) {
    const lister = new ResourceClient(conn);
    targets = [];
    for (const info of resolveKinds(args[0]!)) {
      const { items } = await lister.list(info, opts.allNamespaces ? undefined : conn.namespace);
      for (const o of items) targets.push({ kind: info.kind, namespace: o.metadata?.namespace ?? conn.namespace, name: o.metadata?.name ?? "" });
    }
  } else {
    const kinds = resolveKinds(args[0]!);
    if (kinds.length !== 1) throw new CliError("InvalidArgument", "delete by name takes one kind (gameserver or devenvironment)");
    targets = args.slice(1).map((name) => ({ kind: kinds[0]!.kind, namespace: conn.namespace, name }));
  }

  const client = new ResourceClient(conn);
  const requested: WaitTarget[] = [];
  let missing = 0;
  for (const t of targets) {
    const ref = resourceRef(t.kind, t.name);
    try {
      await client.delete(kindInfo(t.kind), t.namespace, t.name, ref);
    } catch (e) {
      if (!(e instanceof CliError && e.reason === "NotFound")) throw e;
      missing++;
      // As with kubectl, --ignore-not-found means silence, not a line that reads like a failure.
      if (!opts.ignoreNotFound) io.err(`${ref} not found`);
      continue;
    }
    // Without --wait, "deleted" means the request was accepted, as with kubectl.
    if (opts.wait) requested.push(t);
    else io.out(`${ref} deleted`);
  }
  if (requested.length > 0) await waitForDeletion(client, requested, timeoutMs, io);
  return missing > 0 && !opts.ignoreNotFound ? 1 : 0;
}
