export type RecordType = "A" | "AAAA" | "CNAME" | "TXT" | "SRV";

/**
 * One resource record. `name` is a lowercase FQDN without the trailing dot. `value` is the
 * canonical RDATA text: A/AAAA the address, CNAME the target, TXT the text, SRV
 * "<priority> <weight> <port> <target>".
 */
export interface DnsRecord {
  name: string;
  type: RecordType;
  ttl: number;
  value: string;
}

/** A record as observed: `ownerMark` is undefined for records zlh did not create. */
export interface ObservedRecord extends DnsRecord {
  ownerMark?: string;
}

export interface DesiredRecord extends DnsRecord {
  ownerMark: string;
}

export interface DnsChanges {
  create: DesiredRecord[];
  update: { from: ObservedRecord; to: DesiredRecord }[];
  delete: ObservedRecord[];
}

export interface DnsProvider {
  readonly name: string;
  /** Records at these names (ours and foreign). Read-only. */
  observe(names: readonly string[]): Promise<ObservedRecord[]>;
  /** Applies the changes; must touch nothing else. */
  apply(changes: DnsChanges): Promise<void>;
  /** Every record carrying an owner mark (for the garbage-collection sweep). */
  listOwned(): Promise<ObservedRecord[]>;
}
