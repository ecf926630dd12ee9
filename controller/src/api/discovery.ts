// Discovery documents: what kubectl reads to map `gs` to a URL. Served as plain
// application/json; kubectl asks for aggregated discovery first and falls back to these.
import { RESOURCE_VERBS, STATUS_VERBS, allResourceTypes, type ResourceType } from "./resource-types.js";

export const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-zlh",
  gitCommit: "",
  gitTreeState: "clean",
  buildDate: "2026-11-27T00:00:00Z",
  goVersion: `node${process.versions.node}`,
  compiler: "tsx",
  platform: `${process.platform}/${process.arch}`,
};

function apiResources(type: ResourceType): object[] {
  const main = {
    name: type.plural,
    singularName: type.singular,
    namespaced: true,
    kind: type.kind,
    verbs: RESOURCE_VERBS,
    ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
    ...(type.categories.length ? { categories: type.categories } : {}),
  };
  if (!type.statusSubresource) return [main];
  return [main, { name: `${type.plural}/status`, singularName: "", namespaced: true, kind: type.kind, verbs: STATUS_VERBS }];
}

const namespacesResource = { name: "namespaces", singularName: "namespace", namespaced: false, kind: "Namespace", verbs: ["get", "list"], shortNames: ["ns"] };

function groupVersions(): Map<string, ResourceType[]> {
  const byGroupVersion = new Map<string, ResourceType[]>();
  for (const t of allResourceTypes) {
    const key = t.apiVersion;
    byGroupVersion.set(key, [...(byGroupVersion.get(key) ?? []), t]);
  }
  return byGroupVersion;
}

function apiGroup(group: string, version: string): object {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

/** The discovery document at `path`, or undefined when it is not a discovery path. */
export function discoveryDocument(path: string, serverAddress: string): object | undefined {
  const gvs = groupVersions();
  if (path === "/version") return SERVER_VERSION;
  if (path === "/api") {
    return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
  }
  if (path === "/api/v1") {
    const core = (gvs.get("v1") ?? []).flatMap(apiResources);
    return { kind: "APIResourceList", groupVersion: "v1", resources: [...core, namespacesResource] };
  }
  const named = [...gvs.keys()].filter((k) => k.includes("/")).map((k) => k.split("/") as [string, string]);
  if (path === "/apis") {
    return { kind: "APIGroupList", apiVersion: "v1", groups: named.map(([g, v]) => apiGroup(g, v)) };
  }
  for (const [group, version] of named) {
    if (path === `/apis/${group}`) return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, version) };
    if (path === `/apis/${group}/${version}`) {
      return { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${group}/${version}`, resources: gvs.get(`${group}/${version}`)!.flatMap(apiResources) };
    }
  }
  return undefined;
}
