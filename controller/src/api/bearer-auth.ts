// Bearer-token check for the admin token. Both sides are hashed before the constant-time
// compare, so neither the token's content nor its length leaks through timing.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

export function bearerAuthenticator(token: string): (req: IncomingMessage) => boolean {
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization;
    if (typeof header !== "string") return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m !== null && timingSafeEqual(digest(m[1]!), expected);
  };
}
