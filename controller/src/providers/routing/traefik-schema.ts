// Traefik builds its file-provider configuration from every file at once, and one file that
// fails to decode makes it drop all routes (traefik/traefik#8921). So every route is checked
// against the upstream JSON Schema (see TRAEFIK-SCHEMA-SOURCE.md) before it reaches disk.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import traefikSchema from "./traefik-v3-file-provider.schema.json" with { type: "json" };

export interface SchemaViolation {
  /** Dotted path into the config, e.g. `.http.routers["zlh-a"].service`. */
  path: string;
  message: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const schema = traefikSchema as object;
    // Not ours to edit: today's copy compiles in strict mode too, but SchemaStore files may gain
    // editor-only keywords (markdownDescription…) that strict mode would reject on a refresh.
    compiled = new Ajv({ strict: false, allErrors: true }).compile(schema);
  }
  return compiled;
}

function segment(key: string): string {
  if (/^\d+$/.test(key)) return `[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function toPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((p) => segment(p.replace(/~1/g, "/").replace(/~0/g, "~")))
    .join("");
}

function describe(e: ErrorObject): SchemaViolation {
  const path = toPath(e.instancePath);
  switch (e.keyword) {
    case "required":
      return { path: path + segment((e.params as { missingProperty: string }).missingProperty), message: "required field is missing" };
    case "additionalProperties":
      return { path: path + segment((e.params as { additionalProperty: string }).additionalProperty), message: "unknown field" };
    default:
      return { path: path || ".", message: e.message ?? "is invalid" };
  }
}

/** Everything wrong with `config` as a Traefik v3 dynamic configuration; empty when valid. */
export function traefikConfigViolations(config: unknown): SchemaViolation[] {
  const v = validator();
  if (v(config)) return [];
  const errors = v.errors ?? [];
  // A oneOf over service kinds reports every branch it tried; the branch errors say more
  // than "must match exactly one schema", so that one is dropped when others exist.
  const specific = errors.filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf");
  const seen = new Set<string>();
  return (specific.length > 0 ? specific : errors).map(describe).filter((d) => {
    const key = `${d.path}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
