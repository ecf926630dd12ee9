// TSIG (RFC 8945): HMAC signatures on DNS messages, which dns-packet does not do. A message
// is signed by appending one TSIG record to its additional section; the MAC covers the
// request MAC (for answers), the message as it was before the TSIG record was added, and the
// TSIG variables (§4.3.3). Kept apart from the provider so RFC vectors test it alone.
import { createHmac, timingSafeEqual } from "node:crypto";

export type TsigAlgorithm = "hmac-sha256" | "hmac-sha384" | "hmac-sha512" | "hmac-sha224" | "hmac-sha1" | "hmac-md5";

/** The algorithm names on the wire (RFC 8945 §6) and the hash each one uses. */
const ALGORITHMS: Record<TsigAlgorithm, { wireName: string; hash: string }> = {
  "hmac-md5": { wireName: "hmac-md5.sig-alg.reg.int", hash: "md5" },
  "hmac-sha1": { wireName: "hmac-sha1", hash: "sha1" },
  "hmac-sha224": { wireName: "hmac-sha224", hash: "sha224" },
  "hmac-sha256": { wireName: "hmac-sha256", hash: "sha256" },
  "hmac-sha384": { wireName: "hmac-sha384", hash: "sha384" },
  "hmac-sha512": { wireName: "hmac-sha512", hash: "sha512" },
};

export const TSIG_TYPE = 250;
const CLASS_ANY = 255;
export const DEFAULT_FUDGE = 300;

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  /** The decoded secret (the config holds it in base64, as BIND and Knot do). */
  secret: Buffer;
}

/** TSIG error codes a server may put in its answer (RFC 8945 §3). */
export const TSIG_ERRORS: Record<number, string> = { 16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 22: "BADTRUNC" };

/** A domain name in canonical wire form: lowercase, uncompressed, root-terminated. */
export function wireName(name: string): Buffer {
  const labels = name.toLowerCase().replace(/\.$/, "").split(".").filter((l) => l !== "");
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, "ascii");
    if (b.length > 63) throw new Error(`label "${l}" is longer than 63 octets`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

export interface TsigFields {
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

/** The HMAC over the digest components (§4.3.3); `timersOnly` for later messages of a stream (§5.3.1). */
export function computeMac(
  key: TsigKey,
  message: Buffer,
  f: Pick<TsigFields, "timeSigned" | "fudge" | "error" | "otherData">,
  requestMac?: Buffer,
  timersOnly = false,
): Buffer {
  const hmac = createHmac(ALGORITHMS[key.algorithm].hash, key.secret);
  if (requestMac) hmac.update(Buffer.concat([u16(requestMac.length), requestMac]));
  hmac.update(message);
  if (timersOnly) {
    hmac.update(Buffer.concat([u48(f.timeSigned), u16(f.fudge)]));
  } else {
    hmac.update(
      Buffer.concat([
        wireName(key.name),
        u16(CLASS_ANY),
        Buffer.alloc(4), // TTL 0
        wireName(ALGORITHMS[key.algorithm].wireName),
        u48(f.timeSigned),
        u16(f.fudge),
        u16(f.error),
        u16(f.otherData.length),
        f.otherData,
      ]),
    );
  }
  return hmac.digest();
}

/** Appends the TSIG record to `message` (header ARCOUNT included); returns it and its MAC. */
export function signMessage(key: TsigKey, message: Buffer, timeSigned: number, requestMac?: Buffer, fudge = DEFAULT_FUDGE): { wire: Buffer; mac: Buffer } {
  const fields = { timeSigned, fudge, error: 0, otherData: Buffer.alloc(0) };
  const mac = computeMac(key, message, fields, requestMac);
  const rdata = Buffer.concat([
    wireName(ALGORITHMS[key.algorithm].wireName),
    u48(timeSigned),
    u16(fudge),
    u16(mac.length),
    mac,
    u16(message.readUInt16BE(0)), // original ID
    u16(0),
    u16(0),
  ]);
  const rr = Buffer.concat([wireName(key.name), u16(TSIG_TYPE), u16(CLASS_ANY), Buffer.alloc(4), u16(rdata.length), rdata]);
  const wire = Buffer.concat([message, rr]);
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { wire, mac };
}

// Offset just past the (possibly compressed) name starting at `at`.
function skipName(buf: Buffer, at: number): number {
  for (;;) {
    const len = buf[at];
    if (len === undefined) throw new Error("truncated name");
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2;
    at += len + 1;
  }
}

function readName(buf: Buffer, at: number): string {
  const labels: string[] = [];
  for (let hops = 0; hops < 64; hops++) {
    const len = buf[at];
    if (len === undefined) throw new Error("truncated name");
    if (len === 0) return labels.join(".").toLowerCase();
    if ((len & 0xc0) === 0xc0) {
      at = ((len & 0x3f) << 8) | buf[at + 1]!;
      continue;
    }
    labels.push(buf.toString("ascii", at + 1, at + 1 + len));
    at += len + 1;
  }
  throw new Error("name compression loop");
}

export interface FoundTsig extends TsigFields {
  keyName: string;
  algorithm: string;
  /** The message without its TSIG record, ARCOUNT decremented and the original ID restored. */
  unsigned: Buffer;
}

/** The TSIG record at the end of a message, or undefined when it carries none. */
export function findTsig(buf: Buffer): FoundTsig | undefined {
  if (buf.length < 12) throw new Error("message shorter than a DNS header");
  const qd = buf.readUInt16BE(4);
  const rrs = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  if (buf.readUInt16BE(10) === 0) return undefined;
  let at = 12;
  for (let i = 0; i < qd; i++) at = skipName(buf, at) + 4;
  for (let i = 0; i < rrs - 1; i++) {
    at = skipName(buf, at);
    at += 10 + buf.readUInt16BE(at + 8);
  }
  const start = at;
  const keyName = readName(buf, at);
  at = skipName(buf, at);
  if (buf.readUInt16BE(at) !== TSIG_TYPE) return undefined;
  let r = at + 10;
  const algorithm = readName(buf, r);
  r = skipName(buf, r);
  const timeSigned = buf.readUIntBE(r, 6);
  const fudge = buf.readUInt16BE(r + 6);
  const macLen = buf.readUInt16BE(r + 8);
  const mac = buf.subarray(r + 10, r + 10 + macLen);
  r += 10 + macLen;
  const originalId = buf.readUInt16BE(r);
  const error = buf.readUInt16BE(r + 2);
  const otherLen = buf.readUInt16BE(r + 4);
  const otherData = buf.subarray(r + 6, r + 6 + otherLen);
  const unsigned = Buffer.from(buf.subarray(0, start));
  unsigned.writeUInt16BE(originalId, 0);
  unsigned.writeUInt16BE(buf.readUInt16BE(10) - 1, 10);
  return { keyName, algorithm, timeSigned, fudge, mac: Buffer.from(mac), originalId, error, otherData: Buffer.from(otherData), unsigned };
}

/**
 * Why the signed answer `buf` does not verify against our request, or undefined when it does.
 * For later messages of a zone transfer (§5.3.1) `requestMac` is the prior MAC, `found.unsigned`
 * holds every message since, and `timersOnly` is set.
 */
export function verifyProblem(key: TsigKey, found: FoundTsig, requestMac: Buffer | undefined, nowSeconds: number, timersOnly = false): string | undefined {
  if (found.keyName !== key.name.toLowerCase().replace(/\.$/, "")) return `the answer is signed with key ${found.keyName}, not ${key.name}`;
  if (found.algorithm !== ALGORITHMS[key.algorithm].wireName) return `the answer is signed with algorithm ${found.algorithm}`;
  if (found.error !== 0) return `the server reports TSIG error ${TSIG_ERRORS[found.error] ?? found.error}`;
  const expected = computeMac(key, found.unsigned, found, requestMac, timersOnly);
  if (expected.length !== found.mac.length || !timingSafeEqual(expected, found.mac)) return "the answer's TSIG MAC does not verify";
  if (Math.abs(nowSeconds - found.timeSigned) > found.fudge) return "the answer's TSIG time is outside the fudge window (check the clocks)";
  return undefined;
}
