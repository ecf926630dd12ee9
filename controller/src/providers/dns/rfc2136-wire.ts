// The DNS messages the RFC 2136 provider sends: signed queries, signed zone transfers and
// signed UPDATE messages with prerequisites, and the checks on every answer (ID, rcode, TSIG).
// dns-packet encodes RDATA and decodes answers; the UPDATE layout (zone/prerequisite/update
// sections, classes NONE and ANY with empty RDATA) is written here because dns-packet only
// knows query sections and the classes IN..ANY.
import { randomInt } from "node:crypto";
import dnsPacket from "dns-packet";
import { ProviderError } from "../provider-error.js";
import { TransientError } from "../retry.js";
import { describeServer, exchange, tcpExchange, type DnsServer } from "./dns-transport.js";
import { findTsig, signMessage, TSIG_ERRORS, verifyProblem, wireName, type TsigKey } from "./tsig.js";
import type { RecordType } from "./types.js";

const TYPE_CODES: Record<RecordType | "SOA", number> = { A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, SRV: 33 };
const CLASS_IN = 1;
const CLASS_NONE = 254;
const OPCODE_UPDATE = 5;
const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

/** An answer RR as dns-packet decodes it (`data` is the type's RDATA object). */
export interface WireRecord {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

export interface Endpoint {
  server: DnsServer;
  key: TsigKey;
  timeoutMs: number;
  /** Wall-clock seconds for TSIG's time signed (the server checks it against its own clock). */
  nowSeconds: () => number;
}

/** The server answered with this rcode; `prerequisite` when the zone changed under us. */
export class DnsRcodeError extends ProviderError {
  constructor(
    readonly rcode: string,
    message: string,
  ) {
    super(rcode === "YXRRSET" || rcode === "NXRRSET" || rcode === "YXDOMAIN" || rcode === "NXDOMAIN" ? "Conflict" : "Unavailable", message);
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** One RR in wire form; `rdata` undefined means RDLENGTH 0 (the class NONE/ANY forms). */
export function encodeRR(name: string, type: number, klass: number, ttl: number, rdata?: Buffer): Buffer {
  const ttlBuf = Buffer.alloc(4);
  ttlBuf.writeUInt32BE(ttl);
  return Buffer.concat([wireName(name), u16(type), u16(klass), ttlBuf, rdata ?? u16(0)]);
}

/** RDLENGTH + RDATA of a record, by dns-packet. */
export function encodeRdata(type: RecordType, data: unknown): Buffer {
  // `record` is exported by dns-packet but missing from its type declarations.
  const codec = (dnsPacket as unknown as { record(t: string): { encode(d: unknown): Uint8Array } }).record(type);
  return Buffer.from(codec.encode(data));
}

export type UpdateOp =
  | { kind: "rrsetIs"; name: string; type: RecordType; records: unknown[] }
  | { kind: "rrsetAbsent"; name: string; type: RecordType }
  | { kind: "add"; name: string; type: RecordType; ttl: number; data: unknown }
  | { kind: "delete"; name: string; type: RecordType; data: unknown };

/** An UPDATE message (RFC 2136 §2): zone section, prerequisites, updates. */
export function updateMessage(zone: string, prerequisites: UpdateOp[], updates: UpdateOp[]): Buffer {
  const rr = (op: UpdateOp): Buffer[] => {
    const t = TYPE_CODES[op.type];
    switch (op.kind) {
      case "rrsetIs": // §2.4.2: RRset exists (value dependent), TTL 0
        return op.records.map((d) => encodeRR(op.name, t, CLASS_IN, 0, encodeRdata(op.type, d)));
      case "rrsetAbsent": // §2.4.3: RRset does not exist
        return [encodeRR(op.name, t, CLASS_NONE, 0)];
      case "add": // §2.5.1
        return [encodeRR(op.name, t, CLASS_IN, op.ttl, encodeRdata(op.type, op.data))];
      case "delete": // §2.5.4: delete an RR from an RRset
        return [encodeRR(op.name, t, CLASS_NONE, 0, encodeRdata(op.type, op.data))];
    }
  };
  const pr = prerequisites.flatMap(rr);
  const up = updates.flatMap(rr);
  const header = Buffer.concat([u16(randomInt(0, 0x10000)), u16(OPCODE_UPDATE << 11), u16(1), u16(pr.length), u16(up.length), u16(0)]);
  return Buffer.concat([header, wireName(zone), u16(TYPE_CODES.SOA), u16(CLASS_IN), ...pr, ...up]);
}

export function queryMessage(name: string, type: RecordType | "SOA" | "AXFR"): Buffer {
  return Buffer.from(dnsPacket.encode({ type: "query", id: randomInt(0, 0x10000), flags: 0, questions: [{ type, name, class: "IN" }] }));
}

function rcodeOf(answer: Buffer): string {
  const code = answer.readUInt16BE(2) & 0x0f;
  return RCODES[code] ?? `RCODE ${code}`;
}

// Checks the signature of one answer (or, for a stream, of the answers since the last signed
// one). An unsigned error answer is the server rejecting our key: say so without the secret.
function checkSigned(ep: Endpoint, what: string, answers: Buffer[], requestMac: Buffer, first: boolean): Buffer | undefined {
  const last = answers[answers.length - 1]!;
  const found = findTsig(last);
  if (!found) return undefined;
  const unsigned = Buffer.concat([...answers.slice(0, -1), found.unsigned]);
  const problem = verifyProblem(ep.key, { ...found, unsigned }, requestMac, ep.nowSeconds(), !first);
  if (problem) throw new ProviderError("Unavailable", `${what}: ${problem}; check the tsig settings`);
  return found.mac;
}

function refusedKey(ep: Endpoint, what: string, answer: Buffer): ProviderError {
  const found = (() => {
    try {
      return findTsig(answer);
    } catch {
      return undefined;
    }
  })();
  const tsigError = found && found.error !== 0 ? `, ${TSIG_ERRORS[found.error] ?? `TSIG error ${found.error}`}` : "";
  return new ProviderError("Unavailable", `${what}: the server refused TSIG key ${ep.key.name} (${rcodeOf(answer)}${tsigError}); check tsig.name, tsig.algorithm and the secret file`);
}

/** Sends a signed message and returns the verified answer; a non-NOERROR rcode throws. */
export async function signedExchange(ep: Endpoint, what: string, message: Buffer): Promise<dnsPacket.Packet> {
  const { wire, mac } = signMessage(ep.key, message, ep.nowSeconds());
  const answer = await exchange(ep.server, wire, ep.timeoutMs);
  if (answer.readUInt16BE(0) !== message.readUInt16BE(0)) throw new TransientError(`${what}: the answer's ID does not match the request`);
  const rcode = rcodeOf(answer);
  if (rcode === "NOTAUTH" || (rcode === "REFUSED" && !findTsig(answer))) throw refusedKey(ep, what, answer);
  if (!checkSigned(ep, what, [answer], mac, true)) throw new ProviderError("Unavailable", `${what}: the answer is not signed (${rcode}); zlh accepts only answers signed with key ${ep.key.name}`);
  if (rcode === "SERVFAIL") throw new TransientError(`${what}: SERVFAIL`);
  if (rcode !== "NOERROR" && rcode !== "NXDOMAIN") throw new DnsRcodeError(rcode, `${what}: the server answered ${rcode}`);
  return Object.assign(dnsPacket.decode(answer), { rcode });
}

/** Every record of the zone by AXFR over TCP (RFC 5936), each answer's TSIG checked (RFC 8945 §5.3.1). */
export async function zoneTransfer(ep: Endpoint, zone: string): Promise<WireRecord[]> {
  const what = `AXFR of ${zone} from ${describeServer(ep.server)}`;
  const message = queryMessage(zone, "AXFR");
  const { wire, mac } = signMessage(ep.key, message, ep.nowSeconds());
  let soas = 0;
  const answers = await tcpExchange(ep.server, wire, ep.timeoutMs, (answer) => {
    if (rcodeOf(answer) !== "NOERROR") return false;
    for (const rr of dnsPacket.decode(answer).answers ?? []) if (rr.type === "SOA") soas++;
    return soas < 2;
  });
  let prior = mac;
  let since: Buffer[] = [];
  const records: WireRecord[] = [];
  for (const [i, answer] of answers.entries()) {
    if (answer.readUInt16BE(0) !== message.readUInt16BE(0)) throw new TransientError(`${what}: an answer's ID does not match the request`);
    const rcode = rcodeOf(answer);
    if (rcode === "NOTAUTH" || rcode === "REFUSED") throw refusedKey(ep, what, answer);
    if (rcode !== "NOERROR") throw new DnsRcodeError(rcode, `${what}: the server answered ${rcode}`);
    since.push(answer);
    const signedMac = checkSigned(ep, what, since, prior, i === 0);
    if (signedMac) {
      prior = signedMac;
      since = [];
    } else if (i === 0 || i === answers.length - 1 || since.length > 99) {
      throw new ProviderError("Unavailable", `${what}: an answer is not signed; zlh accepts only answers signed with key ${ep.key.name}`);
    }
    for (const rr of dnsPacket.decode(answer).answers ?? []) records.push(rr as WireRecord);
  }
  if (soas < 2) throw new TransientError(`${what}: the transfer ended early`);
  return records;
}
