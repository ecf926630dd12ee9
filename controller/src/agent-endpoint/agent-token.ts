// Agent tokens are derived, not stored: HMAC(secret, resource identity). The uid is part of
// the identity so a token leaked from a deleted resource is useless for a new one that
// reuses its name.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface AgentTokenRef {
  plural: string;
  namespace: string;
  name: string;
  uid: string;
}

export const AGENT_TOKEN_PREFIX = "zlha.";
const SECRET_BYTES = 32;
// base64url of a 32-byte HMAC-SHA256 is always 43 characters without padding.
const TOKEN_PATTERN = /^zlha\.[A-Za-z0-9_-]{43}$/;

export class AgentSecretError extends Error {
  constructor(readonly reason: "SecretInvalid", message: string) {
    super(message);
    this.name = "AgentSecretError";
  }
}

function digest(secret: Buffer, ref: AgentTokenRef): Buffer {
  return createHmac("sha256", secret).update(`${ref.plural}/${ref.namespace}/${ref.name}/${ref.uid}`).digest();
}

export function mintAgentToken(secret: Buffer, ref: AgentTokenRef): string {
  return AGENT_TOKEN_PREFIX + digest(secret, ref).toString("base64url");
}

/** True when `token` has the shape of an agent token; says nothing about which resource. */
export function isWellFormedAgentToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** Constant-time check that `token` was minted for exactly this resource (name and uid). */
export function verifyAgentToken(secret: Buffer, ref: AgentTokenRef, token: string): boolean {
  if (!isWellFormedAgentToken(token)) return false;
  const given = Buffer.from(token.slice(AGENT_TOKEN_PREFIX.length), "base64url");
  const expected = digest(secret, ref);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Reads the signing secret, creating 32 random bytes (mode 0600) on first start. */
export function loadOrCreateAgentSecret(path: string): Buffer {
  let secret: Buffer;
  try {
    secret = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    secret = randomBytes(SECRET_BYTES);
    try {
      // "wx": two controllers starting at once must not each write a different secret.
      writeFileSync(path, secret, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      return loadOrCreateAgentSecret(path);
    }
    chmodSync(path, 0o600);
    return secret;
  }
  if (secret.length < SECRET_BYTES) {
    throw new AgentSecretError("SecretInvalid", `agent secret ${path} holds ${secret.length} bytes, expected at least ${SECRET_BYTES}`);
  }
  return secret;
}
