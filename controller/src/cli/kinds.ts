// The names a user may type for our kinds, and the REST coordinates each resolves to.
import { API_VERSION, GROUP, VERSION, kinds, type ResourceKind } from "../plan/resource.js";
import { CliError } from "./cli-error.js";

export { API_VERSION, GROUP, VERSION };
export type KindName = ResourceKind;

export interface KindInfo {
  kind: KindName | "Sync";
  plural: "gameservers" | "devenvironments" | "syncs";
  singular: "gameserver" | "devenvironment" | "sync";
  shortName: "gs" | "dev" | "sync";
}

/** The workload kinds: what `all` means (a Sync is not a workload, as in `kubectl get all`). */
export const KINDS: readonly KindInfo[] = (Object.keys(kinds) as KindName[]).map((kind) => ({
  kind,
  plural: kinds[kind].plural,
  singular: kinds[kind].plural.slice(0, -1) as KindInfo["singular"],
  shortName: kinds[kind].short,
}));

export const SYNC_KIND: KindInfo = { kind: "Sync", plural: "syncs", singular: "sync", shortName: "sync" };

export function kindInfo(kind: KindName | "Sync"): KindInfo {
  return kind === "Sync" ? SYNC_KIND : KINDS.find((k) => k.kind === kind)!;
}

function lookup(word: string): KindInfo | undefined {
  // Like kubectl, a fully qualified `gameservers.zerolaghub.dev` is accepted too.
  const bare = word.toLowerCase().replace(new RegExp(`\\.${GROUP.replace(/\./g, "\\.")}$`), "");
  return [...KINDS, SYNC_KIND].find((k) => bare === k.plural || bare === k.singular || bare === k.shortName || bare === k.kind.toLowerCase());
}

/**
 * Resolves `gs`, `gameservers,dev` or `all` to kinds, in the order given and without
 * repeats. Unknown words are an error naming every accepted spelling.
 */
export function resolveKinds(arg: string): KindInfo[] {
  const out: KindInfo[] = [];
  const words = arg.split(",").map((w) => w.trim());
  for (const word of words) {
    const found = word.toLowerCase() === "all" ? [...KINDS] : [lookup(word)];
    if (word === "" || found[0] === undefined) {
      throw new CliError(
        "InvalidArgument",
        `unknown resource type "${word}": use gameserver(s), gs, devenvironment(s), dev, sync(s) or all`,
      );
    }
    for (const k of found) if (k && !out.includes(k)) out.push(k);
  }
  return out;
}

/** `gameserver.zerolaghub.dev/mc1`: how kubectl names one object in its output. */
export function resourceRef(kind: KindName | "Sync", name: string): string {
  return `${kindInfo(kind).singular}.${GROUP}/${name}`;
}

/** Path a Watch needs: namespaced, or every namespace when `namespace` is undefined. */
export function collectionPath(info: KindInfo, namespace: string | undefined): string {
  return namespace === undefined
    ? `/apis/${GROUP}/${VERSION}/${info.plural}`
    : `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${info.plural}`;
}
