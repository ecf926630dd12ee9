// OpenAPI documents for kubectl. `/openapi/v3` indexes one document per group-version;
// each holds the PATCH operation kubectl inspects and, in `components.schemas`, the schema
// of every zlh kind (made from schemas/ exactly as the CRDs are), which `kubectl explain`
// reads. kubectl apply/create validate by default: they look up whether the PATCH operation
// of a kind accepts `fieldValidation`; since it does, kubectl leaves validation to the
// server (which validates strictly anyway). Request bodies list no strategic-merge type, so
// `kubectl apply` computes a JSON merge patch for updates. `/openapi/v2` serves the same
// schemas as Swagger 2.0 JSON for tools that read v2.
import { createHash } from "node:crypto";
import commonSchema from "../../../schemas/common.schema.json" with { type: "json" };
import agentReportSchema from "../../../schemas/agent-report.schema.json" with { type: "json" };
import devEnvironmentSchema from "../../../schemas/devenvironment.schema.json" with { type: "json" };
import gameServerSchema from "../../../schemas/gameserver.schema.json" with { type: "json" };
import syncSchema from "../../../schemas/sync.schema.json" with { type: "json" };
import { crdSchema, type Json } from "./crd-schema.js";
import { allResourceTypes, devEnvironments, gameServers, syncs, type ResourceType } from "./resource-types.js";

const schemaFiles: ReadonlyMap<string, Json> = new Map<string, Json>([
  ["common.schema.json", commonSchema as Json],
  ["agent-report.schema.json", agentReportSchema as Json],
  ["gameserver.schema.json", gameServerSchema as Json],
  ["devenvironment.schema.json", devEnvironmentSchema as Json],
  ["sync.schema.json", syncSchema as Json],
]);

const schemaFileOf = new Map<ResourceType, string>([
  [gameServers, "gameserver.schema.json"],
  [devEnvironments, "devenvironment.schema.json"],
  [syncs, "sync.schema.json"],
]);

function gvPath(type: ResourceType): string {
  return type.group === "" ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
}

/** Kubernetes' definition names: `dev.zerolaghub.v1alpha1.GameServer` (the group reversed). */
function definitionName(type: ResourceType, kind = type.kind): string {
  return `${type.group.split(".").reverse().join(".")}.${type.version}.${kind}`;
}

const gvk = (type: ResourceType, kind = type.kind): Json => ({ group: type.group, version: type.version, kind });

const TYPE_META = {
  apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." },
  kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents." },
  metadata: { type: "object", description: "Standard object's metadata: name, namespace, labels, annotations, resourceVersion, generation…" },
};

/** The schemas of one kind and its list, with refs written against `refBase` (`#/components/schemas/` or `#/definitions/`). */
function kindDefinitions(type: ResourceType, refBase: string): Record<string, Json> {
  const file = schemaFileOf.get(type);
  if (!file) return {};
  const schema = crdSchema(file, schemaFiles);
  const object = { ...schema, properties: { ...(schema.properties as Json), ...TYPE_META }, "x-kubernetes-group-version-kind": [gvk(type)] };
  const list = {
    type: "object",
    description: `${type.listKind} is a list of ${type.kind}.`,
    required: ["items"],
    properties: { ...TYPE_META, items: { type: "array", items: { $ref: `${refBase}${definitionName(type)}` } } },
    "x-kubernetes-group-version-kind": [gvk(type, type.listKind)],
  };
  return { [definitionName(type)]: object, [definitionName(type, type.listKind)]: list };
}

function operation(type: ResourceType): object {
  return {
    "x-kubernetes-group-version-kind": gvk(type),
    parameters: [
      { name: "fieldValidation", in: "query", schema: { type: "string", enum: ["Ignore", "Warn", "Strict"] } },
      { name: "fieldManager", in: "query", schema: { type: "string" } },
      { name: "dryRun", in: "query", schema: { type: "string" } },
    ],
    requestBody: {
      content: {
        "application/merge-patch+json": { schema: { type: "object" } },
        "application/json-patch+json": { schema: { type: "array" } },
        "application/apply-patch+yaml": { schema: { type: "object" } },
      },
    },
    responses: { "200": { description: "OK" } },
  };
}

function groupVersionDocument(types: ResourceType[]): Json {
  const paths: Record<string, object> = {};
  let schemas: Record<string, Json> = {};
  for (const t of types) {
    paths[`/${gvPath(t)}/namespaces/{namespace}/${t.plural}/{name}`] = { patch: operation(t) };
    schemas = { ...schemas, ...kindDefinitions(t, "#/components/schemas/") };
  }
  return { openapi: "3.0.0", info: { title: "zlh", version: types[0]!.version }, paths, components: { schemas } };
}

function swaggerDocument(): Json {
  let definitions: Record<string, Json> = {};
  for (const t of allResourceTypes) definitions = { ...definitions, ...kindDefinitions(t, "#/definitions/") };
  return { swagger: "2.0", info: { title: "zlh", version: "v1alpha1" }, paths: {}, definitions };
}

interface Documents {
  byPath: Map<string, Json>;
}

// Built once: the documents change only with the code. The hash in each index URL is the
// document's content hash, so kubectl's disk cache never serves an older server's schemas.
let built: Documents | undefined;
function documents(): Documents {
  if (built) return built;
  const byPath = new Map<string, Json>();
  const index: Record<string, { serverRelativeURL: string }> = {};
  const groups = new Map<string, ResourceType[]>();
  for (const t of allResourceTypes) groups.set(gvPath(t), [...(groups.get(gvPath(t)) ?? []), t]);
  for (const [path, types] of groups) {
    const doc = groupVersionDocument(types);
    const hash = createHash("sha256").update(JSON.stringify(doc)).digest("hex").slice(0, 32).toUpperCase();
    byPath.set(`/openapi/v3/${path}`, doc);
    index[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  byPath.set("/openapi/v3", { paths: index });
  byPath.set("/openapi/v2", swaggerDocument());
  built = { byPath };
  return built;
}

/** The document at `path` (`/openapi/v3`, `/openapi/v3/<gv path>` or `/openapi/v2`), or undefined. */
export function openApiDocument(path: string): object | undefined {
  return documents().byPath.get(path);
}
