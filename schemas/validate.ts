// ajv validators for every document zlh reads: the single entry point for schema checks,
// shared by the API server, the CLI, the controller and the agent.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import artifactCatalogSchema from "./artifact-catalog.schema.json" with { type: "json" };
import agentReportSchema from "./agent-report.schema.json" with { type: "json" };
import commonSchema from "./common.schema.json" with { type: "json" };
import controllerConfigSchema from "./controller-config.schema.json" with { type: "json" };
import devEnvironmentSchema from "./devenvironment.schema.json" with { type: "json" };
import gameServerSchema from "./gameserver.schema.json" with { type: "json" };
import { semanticErrors } from "./semantics.js";

const addFormats = addFormatsModule.default;
const base = "https://zerolaghub.dev/schemas/";

export type DocumentKind = "GameServer" | "DevEnvironment" | "AgentReport" | "ControllerConfig" | "ArtifactCatalog";

/** One failing field: `path` is a JSON-pointer-like dotted path (".spec.ports[1].port"). */
export interface FieldError {
  path: string;
  message: string;
}

const files: Record<DocumentKind, string> = {
  GameServer: "gameserver.schema.json",
  DevEnvironment: "devenvironment.schema.json",
  AgentReport: "agent-report.schema.json",
  ControllerConfig: "controller-config.schema.json",
  ArtifactCatalog: "artifact-catalog.schema.json",
};

const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: false, discriminator: true });
addFormats(ajv);
// Imported, not read from disk, so the bundled CLI, server and agent carry them inside.
for (const schema of [artifactCatalogSchema, commonSchema, agentReportSchema, controllerConfigSchema, devEnvironmentSchema, gameServerSchema]) {
  ajv.addSchema(schema as object);
}
const compiled = new Map<DocumentKind, ValidateFunction>();
function validatorFor(kind: DocumentKind): ValidateFunction {
  let v = compiled.get(kind);
  if (!v) {
    v = ajv.getSchema(base + files[kind]);
    if (!v) throw new Error(`schema ${files[kind]} not loaded`);
    compiled.set(kind, v);
  }
  return v;
}

function toPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
    .join("");
}

function describe(e: ErrorObject): FieldError {
  let path = toPath(e.instancePath);
  let message = e.message ?? "is invalid";
  if (e.propertyName !== undefined) {
    return { path: `${path}[${JSON.stringify(e.propertyName)}]`, message: `key ${e.message ?? "is invalid"}` };
  }
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      path += /^[A-Za-z_][A-Za-z0-9_]*$/.test(extra) ? `.${extra}` : `[${JSON.stringify(extra)}]`;
      message = "unknown field";
      break;
    }
    case "required":
      path += `.${(e.params as { missingProperty: string }).missingProperty}`;
      message = "required field is missing";
      break;
    case "enum":
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
      break;
    case "const":
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
      break;
    case "pattern":
      message = path.endsWith(".name") || path.endsWith(".namespace") || path.endsWith(".hostname")
        ? "must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"
        : `must match ${(e.params as { pattern: string }).pattern}`;
      break;
  }
  return { path: path || ".", message };
}

/** Validates a document against its schema and, for resources, the rules a schema cannot say. */
export function validateDocument(kind: DocumentKind, doc: unknown): FieldError[] {
  const v = validatorFor(kind);
  if (!v(doc)) {
    // ajv reports a bad key twice: once for the key (with propertyName) and once for the object.
    const seen = new Set<string>();
    return (v.errors ?? []).filter((e) => e.keyword !== "propertyNames").map(describe).filter((e) => {
      const key = `${e.path}|${e.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  return kind === "GameServer" || kind === "DevEnvironment" ? semanticErrors(kind, doc) : [];
}
