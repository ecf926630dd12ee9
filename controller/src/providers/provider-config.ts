// What a provider needs to take part in the controller config (STYLE.md §9): an entry that
// parses its own section of the config file and makes the provider from the result. The
// config loader (config.ts) picks the entry by the section's `type`; providers never see the
// rest of the config, and the loader never knows a provider's keys.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { inspect } from "node:util";
import type { Logger } from "pino";
import type { Clock } from "../engine/clock.js";
import type { Range } from "../plan/allocation.js";

/**
 * A config problem. `field` is the dotted path of the key (".providers.dns[1].tokenFile"); the
 * loader prefixes `file:line:col` when the YAML gives the key. The message never holds a secret.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly reason = "InvalidConfig";

  constructor(
    /** Dotted path of the key; empty when the problem is the file as a whole. */
    readonly field: string,
    /** What is wrong, without the location. */
    readonly detail: string,
    /** `file:line:col` (or `file`, or `config` without a file) once the loader knows it. */
    readonly where?: string,
  ) {
    super([where, field, detail].filter((s) => s).join(": "));
  }

  at(where: string): ConfigError {
    return new ConfigError(this.field, this.detail, where);
  }
}

/**
 * A secret named by the config (`<key>File: PATH` or `<key>Env: NAME`). It is read again on
 * every `value()`, so a rotated file is picked up without a restart, and it prints as its
 * source only: logging a resolved config can never show the secret.
 */
export class SecretRef {
  constructor(
    /** `file /etc/zlh/tsig.secret` or `environment variable ZLH_TSIG`: safe to show. */
    readonly source: string,
    private readonly read: () => string,
  ) {}

  /** The secret, trimmed of surrounding whitespace (files usually end in a newline). */
  value(): string {
    return this.read().trim();
  }

  toJSON(): string {
    return `[secret from ${this.source}]`;
  }

  toString(): string {
    return this.toJSON();
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/** What every section parser gets besides its own section. */
export interface ParseContext {
  /** Where the section sits, e.g. `.providers.dns[1]`; `fail` builds field paths from it. */
  readonly field: string;
  /** The config file's directory: relative paths in the section resolve against it. */
  readonly baseDir: string;
  readonly dataDir: string;
  /** The top-level `zone`. */
  readonly zone: string;
  readonly vmids: Range;
  readonly env: NodeJS.ProcessEnv;
  /** Throws a ConfigError naming `key` of this section (a dotted sub-path such as `tsig.name` works). */
  fail(key: string, message: string): never;
  /** The absolute path a key names (relative to the config file), or `fallback` when absent. */
  path(value: string | undefined, fallback: string): string;
  /** Like `path`, and the file must be readable now (its content is not kept). */
  readableFile(key: string, value: string): string;
  /**
   * The secret given by `<key>File` or `<key>Env` of `section` (only one of them). It is read
   * once here so a missing file or variable fails at start, naming the key.
   */
  secret(section: object, key: string, options: { required: boolean; sectionField?: string }): SecretRef | undefined;
}

/** What `make` gets: shared services, never the store, the engine or a reconciler. */
export interface ProviderEnv {
  /** The server's logger; providers add their own `provider` field. */
  logger: Logger;
  dataDir: string;
  zone: string;
  clock?: Clock;
}

export interface ProviderEntry<Section, Resolved, P> {
  /** Checks what the schema cannot (files exist, values agree) and fills in defaults. */
  parse(section: Section, ctx: ParseContext): Resolved;
  /** Builds the provider; may not fail for reasons `parse` could have caught. */
  make(resolved: Resolved, env: ProviderEnv): P;
}

/** An entry with its types erased, so entries of different providers share one map. */
export interface RegisteredProvider<P> {
  parse(section: unknown, ctx: ParseContext): unknown;
  make(resolved: unknown, env: ProviderEnv): P;
}

export function defineProvider<Section, Resolved, P>(entry: ProviderEntry<Section, Resolved, P>): RegisteredProvider<P> {
  return entry as unknown as RegisteredProvider<P>;
}

/** Builds the ParseContext of one section. */
export function parseContext(o: Omit<ParseContext, "fail" | "path" | "readableFile" | "secret">): ParseContext {
  const fieldOf = (key: string, base = o.field) => (key ? `${base}.${key}` : base);
  const absolute = (p: string) => (isAbsolute(p) ? p : resolve(o.baseDir, p));
  const fail = (key: string, message: string): never => {
    throw new ConfigError(fieldOf(key), message);
  };
  const readable = (field: string, value: string): string => {
    const p = absolute(value);
    try {
      readFileSync(p);
    } catch (err) {
      throw new ConfigError(field, `cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return p;
  };
  return {
    ...o,
    fail,
    path: (value, fallback) => (value === undefined ? fallback : absolute(value)),
    readableFile: (key, value) => readable(fieldOf(key), value),
    secret(section, key, { required, sectionField }) {
      const s = section as Record<string, unknown>;
      const base = sectionField ?? o.field;
      const fileKey = `${key}File`;
      const envKey = `${key}Env`;
      const file = s[fileKey];
      const env = s[envKey];
      if (file !== undefined && env !== undefined) {
        throw new ConfigError(fieldOf(envKey, base), `give the secret once: ${fileKey} or ${envKey}, not both`);
      }
      if (typeof file === "string") {
        const p = readable(fieldOf(fileKey, base), file);
        const ref = new SecretRef(`file ${p}`, () => readFileSync(p, "utf8"));
        if (ref.value() === "") throw new ConfigError(fieldOf(fileKey, base), `${p} is empty`);
        return ref;
      }
      if (typeof env === "string") {
        const environment = o.env;
        const ref = new SecretRef(`environment variable ${env}`, () => environment[env] ?? "");
        if (ref.value() === "") throw new ConfigError(fieldOf(envKey, base), `environment variable ${env} is not set or empty`);
        return ref;
      }
      if (required) throw new ConfigError(fieldOf(fileKey, base), `required: the file holding the secret (or ${envKey}: NAME of an environment variable)`);
      return undefined;
    },
  };
}
