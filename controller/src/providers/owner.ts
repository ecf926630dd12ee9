// Every object a provider creates carries its owner's mark, so a crash between "create" and
// "record in status" is healed by adoption, and garbage collection can find orphans.
export type OwnerKind = "GameServer" | "DevEnvironment";

export interface Owner {
  kind: OwnerKind;
  namespace: string;
  name: string;
  uid: string;
}

export const OWNER_LABEL = "zerolaghub.dev/owner";

/** `GameServer/default/mc1/0b6f…`: the value stored as the owner mark in every provider. */
export function ownerMark(o: Owner): string {
  return `${o.kind}/${o.namespace}/${o.name}/${o.uid}`;
}

export function parseOwnerMark(mark: string): Owner | undefined {
  const m = /^(GameServer|DevEnvironment)\/([a-z0-9-]+)\/([a-z0-9-]+)\/([A-Za-z0-9-]+)$/.exec(mark.trim());
  if (!m) return undefined;
  return { kind: m[1] as OwnerKind, namespace: m[2]!, name: m[3]!, uid: m[4]! };
}
