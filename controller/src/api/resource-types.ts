// The kinds this API serves and everything that differs between them: URL coordinates,
// discovery data, how a body is checked, which fields a fieldSelector may name, and the
// columns `kubectl get` shows.
import { validateDocument, type FieldError } from "../../../schemas/validate.js";
import type { NameRule } from "./names.js";
import { AGE_COLUMN, SYNC_CATEGORIES, SYNC_PRINTER_COLUMNS, ZLH_CATEGORIES, ZLH_PRINTER_COLUMNS, type PrinterColumn } from "./printer-columns.js";
import { eventShapeErrors, leaseShapeErrors } from "./shape-checks.js";


export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  /** Key of the collection in the store. */
  storeKey: string;
  /** spec/status split: a `/status` subresource, status preserved by main writes, generation tracking. */
  statusSubresource: boolean;
  nameRule: NameRule;
  validate(object: unknown): FieldError[];
  /** Fields a fieldSelector may use besides metadata.name and metadata.namespace. */
  selectableFields: readonly string[];
  /** A capped collection (Events): the oldest objects beyond the server's per-namespace and total caps are pruned. */
  capped?: boolean;
  /** What `kubectl get` shows after the name (Age included where it goes). */
  columns: readonly PrinterColumn[];
}

const VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"];
export const RESOURCE_VERBS: readonly string[] = VERBS;
export const STATUS_VERBS: readonly string[] = ["get", "patch", "update"];

function zlhKind(kind: "GameServer" | "DevEnvironment" | "Sync", plural: string, shortName: string): ResourceType {
  return {
    group: "zerolaghub.dev",
    version: "v1alpha1",
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: [shortName],
    categories: [...ZLH_CATEGORIES],
    storeKey: `${plural}.zerolaghub.dev`,
    statusSubresource: true,
    nameRule: "label",
    validate: (object) => validateDocument(kind, object),
    selectableFields: [],
    columns: ZLH_PRINTER_COLUMNS,
  };
}

export const gameServers = zlhKind("GameServer", "gameservers", "gs");
export const devEnvironments = zlhKind("DevEnvironment", "devenvironments", "dev");
export const syncs: ResourceType = {
  ...zlhKind("Sync", "syncs", "sync"),
  shortNames: [],
  categories: [...SYNC_CATEGORIES],
  columns: SYNC_PRINTER_COLUMNS,
};

export const leases: ResourceType = {
  group: "coordination.k8s.io",
  version: "v1",
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  listKind: "LeaseList",
  plural: "leases",
  singular: "lease",
  shortNames: [],
  categories: [],
  storeKey: "leases.coordination.k8s.io",
  statusSubresource: false,
  nameRule: "subdomain",
  validate: leaseShapeErrors,
  selectableFields: [],
  columns: [{ name: "Holder", type: "string", jsonPath: ".spec.holderIdentity", description: "Current holder", priority: 0 }, AGE_COLUMN],
};

export const events: ResourceType = {
  group: "",
  version: "v1",
  apiVersion: "v1",
  kind: "Event",
  listKind: "EventList",
  plural: "events",
  singular: "event",
  shortNames: ["ev"],
  categories: [],
  storeKey: "events",
  statusSubresource: false,
  nameRule: "subdomain",
  validate: eventShapeErrors,
  selectableFields: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "type",
    "source",
  ],
  capped: true,
  columns: [
    { name: "Type", type: "string", jsonPath: ".type", description: "Normal or Warning", priority: 0 },
    { name: "Reason", type: "string", jsonPath: ".reason", description: "Short machine-readable reason", priority: 0 },
    { name: "Object", type: "string", jsonPath: ".involvedObject.name", description: "Object the event is about", priority: 0 },
    { name: "Message", type: "string", jsonPath: ".message", description: "What happened", priority: 0 },
    AGE_COLUMN,
  ],
};

export const allResourceTypes: readonly ResourceType[] = [gameServers, devEnvironments, syncs, leases, events];

export function findResourceType(group: string, version: string, plural: string): ResourceType | undefined {
  return allResourceTypes.find((t) => t.group === group && t.version === version && t.plural === plural);
}
