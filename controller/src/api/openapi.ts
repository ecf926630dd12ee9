// A minimal OpenAPI v3 index. kubectl apply/create validate by default: they look up, per
// group-version, whether the PATCH operation of a kind accepts `fieldValidation`; if it
// does, kubectl leaves validation to the server (which validates strictly anyway) instead
// of failing to download a schema. Request bodies list no strategic-merge type, so
// `kubectl apply` computes a JSON merge patch for updates.
import { allResourceTypes, type ResourceType } from "./resource-types.js";

function gvPath(type: ResourceType): string {
  return type.group === "" ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
}

// A content hash lets kubectl's disk cache tell versions apart; these documents only change
// with the code, so the server version serves as one.
const HASH = "zlh-v1alpha1-1";

function operation(type: ResourceType): object {
  return {
    "x-kubernetes-group-version-kind": { group: type.group, version: type.version, kind: type.kind },
    parameters: [
      { name: "fieldValidation", in: "query", schema: { type: "string", enum: ["Ignore", "Warn", "Strict"] } },
      { name: "fieldManager", in: "query", schema: { type: "string" } },
      { name: "dryRun", in: "query", schema: { type: "string" } },
    ],
    requestBody: {
      content: {
        "application/merge-patch+json": { schema: { type: "object" } },
        "application/json-patch+json": { schema: { type: "array" } },
      },
    },
    responses: { "200": { description: "OK" } },
  };
}

/** The document at `path` (`/openapi/v3` or `/openapi/v3/<gv path>`), or undefined. */
export function openApiDocument(path: string): object | undefined {
  if (path === "/openapi/v3") {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const t of allResourceTypes) paths[gvPath(t)] = { serverRelativeURL: `/openapi/v3/${gvPath(t)}?hash=${HASH}` };
    return { paths };
  }
  const types = allResourceTypes.filter((t) => path === `/openapi/v3/${gvPath(t)}`);
  if (types.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const t of types) {
    paths[`/${gvPath(t)}/namespaces/{namespace}/${t.plural}/{name}`] = { patch: operation(t) };
  }
  return { openapi: "3.0.0", info: { title: "zlh", version: types[0]!.version }, paths };
}
