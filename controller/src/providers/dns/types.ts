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
  /**
   * Optional: every record of the zone, ours and foreign, in one call. Providers that can
   * list cheaply offer it, and the controller then lists once per sync (as external-dns
   * does) instead of observing per resource. Leave it out where a listing is expensive or
   * rate-limited; observe() is used then. A provider that offers it must also refuse a
   * create into an RRset (name and type) holding records of another owner or none, since
   * between two listings the controller may not have seen a record added by hand.
   */
  listAll?(): Promise<ObservedRecord[]>;
}
