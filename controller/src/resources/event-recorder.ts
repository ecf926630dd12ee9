// Events explain what the controller did (`zlh describe` shows them). Recording is best
// effort and off the reconcile path: a slow or failing events API never blocks provisioning.
import { CoreV1Api, type KubeConfig, type CoreV1Event } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { API_VERSION, type ZlhResource } from "../plan/resource.js";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(obj: ZlhResource, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far was sent (tests, shutdown). */
  flush(): Promise<void>;
}

export function apiEventRecorder(kc: KubeConfig, logger: Logger, now: () => Date = () => new Date()): EventRecorder {
  const api = kc.makeApiClient(CoreV1Api);
  let pending = Promise.resolve();
  return {
    record(obj, type, reason, message) {
      const namespace = obj.metadata.namespace ?? "default";
      const at = now();
      const body: CoreV1Event = {
        metadata: { name: `${obj.metadata.name}.${randomBytes(6).toString("hex")}`, namespace },
        involvedObject: { apiVersion: API_VERSION, kind: obj.kind, name: obj.metadata.name, namespace, uid: obj.metadata.uid },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: "zlh-controller" },
        reportingComponent: "zlh-controller",
      };
      pending = pending.then(() =>
        api.createNamespacedEvent({ namespace, body }).then(
          () => undefined,
          (err: unknown) => logger.warn({ err: String(err), reason }, "event not recorded"),
        ),
      );
    },
    flush: () => pending,
  };
}

export function memoryEventRecorder(): EventRecorder & { events: { name: string; type: EventType; reason: string; message: string }[] } {
  const events: { name: string; type: EventType; reason: string; message: string }[] = [];
  return {
    events,
    record(obj, type, reason, message) {
      events.push({ name: obj.metadata.name, type, reason, message });
    },
    flush: async () => undefined,
  };
}
