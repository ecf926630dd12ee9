// Namespaces are implicit: one exists while an object lives in it, and "default" always
// does. kubectl occasionally reads them, so they are served read-only.
import type { Store } from "../store/store.js";
import { apiErrors } from "./api-error.js";

function namespaceObject(name: string): object {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } };
}

/** The body for GET /api/v1/namespaces[/name]; other methods are refused. */
export async function namespacesResponse(store: Store, method: string, name: string | undefined): Promise<object> {
  if (method !== "GET") throw apiErrors.methodNotAllowed(method, "namespaces (they exist while objects use them)");
  if (name !== undefined) return namespaceObject(name);
  const names = [...new Set(["default", ...(await store.namespaces())])].sort();
  return { apiVersion: "v1", kind: "NamespaceList", metadata: { resourceVersion: await store.resourceVersion() }, items: names.map(namespaceObject) };
}
