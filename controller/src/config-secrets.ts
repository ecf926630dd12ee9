// Secrets never sit in the config file: the file is copied, committed and pasted into issues.
// A key that looks like it holds one (token, secret, password, privateKey, ...) is refused
// before anything else, with the key to use instead; the value itself is never shown.

/** Keys whose value is a secret; `tokenId`, `tokenFile`, `secretEnv` and friends are not. */
const SECRET_KEY = /(?:^|[a-z0-9_])(?:token|secret|password|passphrase|privatekey|apikey|credentials?)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

function fieldOf(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** The first key anywhere in `doc` that holds a secret inline, with a message naming the fix. */
export function findInlineSecret(doc: unknown, base = ""): { field: string; message: string } | undefined {
  if (Array.isArray(doc)) {
    for (const [i, item] of doc.entries()) {
      const found = findInlineSecret(item, fieldOf(base, i));
      if (found) return found;
    }
    return undefined;
  }
  if (!doc || typeof doc !== "object") return undefined;
  for (const [key, value] of Object.entries(doc)) {
    const field = fieldOf(base, key);
    if (SECRET_KEY.test(key) && value !== null && typeof value !== "object" && typeof value !== "boolean") {
      return {
        field,
        message: `secrets are never written in the config; put it in a file and use ${key}File: PATH (or ${key}Env: NAME of an environment variable)`,
      };
    }
    const found = findInlineSecret(value, field);
    if (found) return found;
  }
  return undefined;
}
