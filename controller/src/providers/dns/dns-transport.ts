// Sends one DNS message and returns the answer(s): UDP first, TCP when the answer comes back
// truncated or the message is too big for a datagram (RFC 1035 §4.2, RFC 7766), TCP only for
// zone transfers, which answer with a stream of messages. Connection failures and timeouts
// are TransientErrors, so the provider's retry policy decides what happens next.
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { Socket } from "node:net";
import { TransientError } from "../retry.js";

export interface DnsServer {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`, or a bare host (port 53). */
export function parseServer(text: string): DnsServer | undefined {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const m = v6 ?? plain;
  if (!m) return isIPv6(text) ? { host: text, port: 53 } : undefined;
  const port = m[2] === undefined ? 53 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

export function describeServer(s: DnsServer): string {
  return isIPv6(s.host) ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

const MAX_UDP = 512;

function failure(server: DnsServer, err: unknown): TransientError {
  const code = (err as NodeJS.ErrnoException).code;
  const text = code === "ECONNREFUSED" ? "connection refused" : code ?? (err instanceof Error ? err.message : String(err));
  return new TransientError(`DNS server ${describeServer(server)}: ${text}`, undefined, { cause: err });
}

function udpExchange(server: DnsServer, wire: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    const id = wire.readUInt16BE(0);
    const done = (err?: Error, answer?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => done(new TransientError(`DNS server ${describeServer(server)}: no answer within ${timeoutMs} ms (UDP)`)), timeoutMs);
    socket.on("error", (err) => done(failure(server, err)));
    // Ignore datagrams that are not the answer to this query (a late reply to an earlier try).
    socket.on("message", (msg) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id) done(undefined, msg);
    });
    socket.connect(server.port, server.host, () => socket.send(wire, (err) => err && done(failure(server, err))));
  });
}

/**
 * Sends `wire` over TCP and collects answers until `more(answer)` says the stream is over
 * (one answer for a query or update, several for AXFR).
 */
export function tcpExchange(server: DnsServer, wire: Buffer, timeoutMs: number, more: (answer: Buffer) => boolean = () => false): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const answers: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answers);
    };
    const timer = setTimeout(() => done(new TransientError(`DNS server ${describeServer(server)}: no answer within ${timeoutMs} ms (TCP)`)), timeoutMs);
    socket.on("error", (err) => done(failure(server, err)));
    socket.on("close", () => done(new TransientError(`DNS server ${describeServer(server)}: closed the connection before answering`)));
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const answer = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + answer.length);
        answers.push(Buffer.from(answer));
        if (!more(answer)) return done();
      }
    });
    socket.connect(server.port, server.host, () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(wire.length);
      socket.write(Buffer.concat([len, wire]));
    });
  });
}

/** One query or update: UDP, or TCP when it does not fit or the answer is truncated (TC). */
export async function exchange(server: DnsServer, wire: Buffer, timeoutMs: number): Promise<Buffer> {
  if (wire.length <= MAX_UDP) {
    const answer = await udpExchange(server, wire, timeoutMs);
    if ((answer.readUInt16BE(2) & 0x0200) === 0) return answer;
  }
  return (await tcpExchange(server, wire, timeoutMs))[0]!;
}
