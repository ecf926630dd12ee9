// The columns `kubectl get` (and `-o wide`) shows for the zlh kinds. One definition feeds
// both the embedded server's Table responses and the generated CRDs'
// additionalPrinterColumns, so a real cluster prints what the embedded server prints.

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date";
  /** Dotted path with optional `[n]` indices, e.g. `.status.endpoints[0].host`. */
  jsonPath: string;
  description: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority: 0 | 1;
}

/** Kubernetes' conventional Age column: a date column kubectl shows as a duration. */
export const AGE_COLUMN: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time since the object was created", priority: 0 };

export const ZLH_PRINTER_COLUMNS: readonly PrinterColumn[] = [
  { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Lifecycle phase reported by the controller", priority: 0 },
  { name: "VMID", type: "integer", jsonPath: ".status.vmid", description: "Workload id", priority: 0 },
  { name: "Host", type: "string", jsonPath: ".status.endpoints[0].host", description: "First public endpoint", priority: 0 },
  AGE_COLUMN,
  { name: "IP", type: "string", jsonPath: ".status.workload.ip", description: "Address of the workload", priority: 1 },
  { name: "Workload", type: "string", jsonPath: ".status.workload.id", description: "Provider id of the workload", priority: 1 },
  { name: "Agent", type: "string", jsonPath: ".status.agent.state", description: "State the agent reports", priority: 1 },
  { name: "Restarts", type: "integer", jsonPath: ".status.agent.restarts", description: "Server restarts counted by the agent", priority: 1 },
];

/** The categories of the zlh kinds: `kubectl get zlh` and `kubectl get all` list them. */
export const ZLH_CATEGORIES: readonly string[] = ["all", "zlh"];

/** Sync columns, as `flux get kustomizations` shows them. */
export const SYNC_PRINTER_COLUMNS: readonly PrinterColumn[] = [
  { name: "Ready", type: "string", jsonPath: ".status.conditions[0].status", description: "Whether the last revision is applied and healthy", priority: 0 },
  { name: "Revision", type: "string", jsonPath: ".status.lastAppliedRevision", description: "Last revision applied in full", priority: 0 },
  { name: "Suspended", type: "string", jsonPath: ".spec.suspend", description: "Applying is paused", priority: 0 },
  AGE_COLUMN,
  { name: "Message", type: "string", jsonPath: ".status.conditions[0].message", description: "What the Ready condition says", priority: 1 },
];

/** Syncs are not workloads: `kubectl get all` leaves them out, `kubectl get zlh` lists them. */
export const SYNC_CATEGORIES: readonly string[] = ["zlh"];
