// `-o json|yaml|name` renderings of API objects.
import { stringify } from "yaml";
import { resourceRef, type KindName } from "./kinds.js";
import type { ResourceObject } from "./resource-rows.js";

export type OutputFormat = "table" | "wide" | "json" | "yaml" | "name";

export function parseOutputFormat(value: string | undefined): OutputFormat | undefined {
  if (value === undefined) return "table";
  return (["wide", "json", "yaml", "name"] as const).find((f) => f === value);
}

export function nameOf(obj: ResourceObject): string {
  return resourceRef(obj.kind as KindName, obj.metadata?.name ?? "");
}

/** One object as printed by `get NAME -o …`, or a v1 List of several. */
export function renderObjects(objects: readonly ResourceObject[], format: "json" | "yaml" | "name", single: boolean): string {
  if (format === "name") return objects.map(nameOf).join("\n");
  const doc = single && objects.length === 1 ? objects[0] : { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items: objects };
  return format === "json" ? JSON.stringify(doc, null, 2) : stringify(doc);
}
