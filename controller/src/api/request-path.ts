// Maps a request path to what it addresses. Segments are split on the raw path and then
// decoded, so an encoded `..%2Fx` stays one (invalid) name and is refused here, before the
// store or any file path sees it.
import { apiErrors } from "./api-error.js";
import { checkPathName } from "./names.js";
import { findResourceType, type ResourceType } from "./resource-types.js";

export type ResourceTarget = {
  what: "resource";
  type: ResourceType;
  /** Undefined for a cluster-wide collection (`/apis/<g>/<v>/<plural>`). */
  namespace?: string;
  name?: string;
  subresource?: "status";
};

export type Target = ResourceTarget | { what: "namespaces"; name?: string };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw apiErrors.badRequest(`malformed percent-encoding in the request path segment ${JSON.stringify(segment)}`);
  }
}

function resource(type: ResourceType | undefined, path: string, namespace: string | undefined, rest: string[]): ResourceTarget {
  if (!type) throw apiErrors.pathNotFound(path);
  if (namespace !== undefined) checkPathName(namespace, "label", "namespace");
  if (rest.length === 0) return { what: "resource", type, namespace };
  if (namespace === undefined) throw apiErrors.pathNotFound(path);
  const name = checkPathName(rest[0]!, type.nameRule, "name");
  if (rest.length === 1) return { what: "resource", type, namespace, name };
  if (rest.length === 2 && rest[1] === "status" && type.statusSubresource) return { what: "resource", type, namespace, name, subresource: "status" };
  throw apiErrors.pathNotFound(path);
}

/** The target of `path` (without query), or undefined when it is not an API object path. */
export function parseTarget(path: string): Target | undefined {
  const raw = path.split("/").slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
  const s = raw.map(decode);
  if (s[0] === "api" && s[1] === "v1") {
    if (s[2] === "namespaces") {
      if (s.length === 3) return { what: "namespaces" };
      const namespace = checkPathName(s[3]!, "label", "namespace");
      if (s.length === 4) return { what: "namespaces", name: namespace };
      return resource(findResourceType("", "v1", s[4]!), path, namespace, s.slice(5));
    }
    if (s.length === 3) return resource(findResourceType("", "v1", s[2]!), path, undefined, []);
    return undefined;
  }
  if (s[0] === "apis" && s.length >= 4) {
    const [, group, version] = s as [string, string, string];
    if (s[3] === "namespaces" && s.length >= 6) {
      const namespace = s[4]!;
      return resource(findResourceType(group, version, s[5]!), path, namespace, s.slice(6));
    }
    if (s.length === 4) return resource(findResourceType(group, version, s[3]!), path, undefined, []);
  }
  return undefined;
}
