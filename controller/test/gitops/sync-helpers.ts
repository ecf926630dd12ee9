// Shared by the gitops tests: a Sync object, a recorder that keeps events in memory, and a
// reconciler wired to the real embedded API server.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Sync } from "../../../schemas/generated/types.js";
import type { EventRecorder } from "../../src/resources/event-recorder.js";

export const base = "/apis/zerolaghub.dev/v1alpha1";

export function syncObject(name: string, spec: Sync["spec"], namespace = "default"): Sync {
  return { apiVersion: "zerolaghub.dev/v1alpha1", kind: "Sync", metadata: { name, namespace }, spec };
}

export interface RecordedEvent {
  name: string;
  type: string;
  reason: string;
  message: string;
}

export function memoryEvents(): EventRecorder & { events: RecordedEvent[] } {
  const events: RecordedEvent[] = [];
  return {
    events,
    record(obj, type, reason, message) {
      events.push({ name: obj.metadata.name, type, reason, message });
    },
    flush: async () => {},
  };
}

export function folder(prefix = "zlh-gitops-"): { dir: string; write(rel: string, text: string): void; remove(rel: string): void; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(rel, text) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    },
    remove(rel) {
      unlinkSync(join(dir, rel));
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function gsYaml(name: string, port = 25565, labels = ""): string {
  return `apiVersion: zerolaghub.dev/v1alpha1
kind: GameServer
metadata:
  name: ${name}
${labels ? `  labels:\n${labels}` : ""}spec:
  game: generic
  command: ["node", "server.js"]
  ports:
    - name: game
      port: ${port}
`;
}

export type { KubeConfig };
