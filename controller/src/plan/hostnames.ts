// The one place hostnames are formatted. The old platform produced them in several
// formats; every DNS name, Traefik rule and URL in zlh comes from here.
export type HostTarget =
  | { kind: "GameServer"; label: string }
  | { kind: "DevEnvironment"; vmid: number; port?: number };

const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** The shape of DevEnvironment names: a GameServer may not take one (it would shadow a dev env). */
const devShaped = /^dev-[0-9]+(-[0-9]+)?$/;

/** Why a GameServer cannot use `label` as its host label, or undefined when it can. */
export function gameHostLabelProblem(l: string): string | undefined {
  if (!label.test(l) || l.length > 63) return `invalid host label ${JSON.stringify(l)}`;
  if (devShaped.test(l)) return `host label ${JSON.stringify(l)} has the form dev-<number>[-<port>], which is reserved for DevEnvironments`;
  return undefined;
}

export function hostname(target: HostTarget, zone: string): string {
  const first = target.kind === "GameServer"
    ? target.label
    : target.port === undefined ? `dev-${target.vmid}` : `dev-${target.vmid}-${target.port}`;
  // Inputs are schema-validated; this guard keeps a bug elsewhere from reaching a Traefik rule.
  if (!label.test(first) || first.length > 63) throw new Error(`invalid host label ${JSON.stringify(first)}`);
  // DevEnvironment names come from vmids, which are unique; a GameServer label of the same
  // shape would take a dev environment's name (or be taken by the next one created).
  if (target.kind === "GameServer" && devShaped.test(first)) throw new Error(gameHostLabelProblem(first));
  const fqdn = `${first}.${zone}`;
  if (fqdn.length > 253) throw new Error(`hostname ${fqdn} is longer than 253 characters`);
  return fqdn;
}

/** SRV owner name Minecraft clients look up for `host`. */
export function minecraftSrvName(host: string): string {
  return `_minecraft._tcp.${host}`;
}
