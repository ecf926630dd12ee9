// The one place hostnames are formatted. The old platform produced them in several
// formats; every DNS name, Traefik rule and URL in zlh comes from here.
export type HostTarget =
  | { kind: "GameServer"; label: string }
  | { kind: "DevEnvironment"; vmid: number; port?: number };

const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function hostname(target: HostTarget, zone: string): string {
  const first = target.kind === "GameServer"
    ? target.label
    : target.port === undefined ? `dev-${target.vmid}` : `dev-${target.vmid}-${target.port}`;
  // Inputs are schema-validated; this guard keeps a bug elsewhere from reaching a Traefik rule.
  if (!label.test(first) || first.length > 63) throw new Error(`invalid host label ${JSON.stringify(first)}`);
  const fqdn = `${first}.${zone}`;
  if (fqdn.length > 253) throw new Error(`hostname ${fqdn} is longer than 253 characters`);
  return fqdn;
}

/** SRV owner name Minecraft clients look up for `host`. */
export function minecraftSrvName(host: string): string {
  return `_minecraft._tcp.${host}`;
}
