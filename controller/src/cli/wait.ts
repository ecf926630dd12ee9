// `--wait`: polls each object until it is Running (apply) or gone (delete), printing phase
// changes as they happen. Polling, not watching, keeps this robust across server restarts;
// the clock is injected so a test can drive the timeout.
import { CliError } from "./cli-error.js";
import type { CliIO } from "./cli-io.js";
import { kindInfo, resourceRef, type KindName } from "./kinds.js";
import type { ResourceClient } from "./resource-client.js";
import { conditionOf, displayPhase, type ResourceObject } from "./resource-rows.js";

export const POLL_INTERVAL_MS = 1000;

export interface WaitTarget {
  kind: KindName;
  namespace: string;
  name: string;
}

function failureReason(obj: ResourceObject): string {
  const s = obj.status;
  if (s?.provisioningError) return s.provisioningError;
  const ready = conditionOf(s, "Ready");
  const bad = ready?.status === "False" ? ready : s?.conditions?.find((c) => c.status === "False");
  return bad ? `${bad.type} ${bad.reason}: ${bad.message}` : "phase Error";
}

/** Whether the status describes the current spec: a status from before the last apply says nothing about it. */
function isCurrent(obj: ResourceObject): boolean {
  const gen = obj.metadata?.generation;
  const seen = obj.status?.observedGeneration;
  return gen === undefined || seen === undefined || seen >= gen;
}

/** Running counts only once the controller has seen the current spec generation. */
function isCurrentlyRunning(obj: ResourceObject): boolean {
  return obj.status?.phase === "Running" && isCurrent(obj);
}

async function pollUntil(io: CliIO, timeoutMs: number, step: () => Promise<boolean>, onTimeout: () => CliError): Promise<void> {
  const deadline = io.clock.now() + timeoutMs;
  for (;;) {
    if (await step()) return;
    if (io.signal.aborted) throw new CliError("Timeout", "interrupted while waiting");
    if (io.clock.now() >= deadline) throw onTimeout();
    await io.clock.sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - io.clock.now())), io.signal);
  }
}

/** Reads every target still pending once per poll, until `settled` holds for all of them. */
async function pollTargets(
  client: ResourceClient,
  targets: readonly WaitTarget[],
  timeoutMs: number,
  io: CliIO,
  settled: (t: WaitTarget, ref: string, obj: ResourceObject | undefined) => boolean,
  onTimeout: (pending: WaitTarget[]) => CliError,
): Promise<void> {
  const pending = new Set(targets);
  await pollUntil(
    io,
    timeoutMs,
    async () => {
      for (const t of [...pending]) {
        const ref = resourceRef(t.kind, t.name);
        if (settled(t, ref, await client.get(kindInfo(t.kind), t.namespace, t.name, ref))) pending.delete(t);
      }
      return pending.size === 0;
    },
    () => onTimeout([...pending]),
  );
}

/** Resolves when every target is Running; throws on phase Error, deletion, timeout or Ctrl-C. */
export async function waitForRunning(client: ResourceClient, targets: readonly WaitTarget[], timeoutMs: number, io: CliIO): Promise<void> {
  const lastPhase = new Map<string, string>();
  await pollTargets(
    client,
    targets,
    timeoutMs,
    io,
    (_t, ref, obj) => {
      if (!obj) throw new CliError("NotFound", `${ref} was deleted while waiting for it to run`);
      const phase = displayPhase(obj);
      if (lastPhase.get(ref) !== phase) {
        lastPhase.set(ref, phase);
        io.out(`${ref} ${phase}`);
      }
      // An Error from an older generation is what the apply just fixed, not a verdict on it.
      if (obj.status?.phase === "Error" && isCurrent(obj)) throw new CliError("ResourceError", `${ref} failed: ${failureReason(obj)}`);
      return isCurrentlyRunning(obj);
    },
    (pending) => new CliError("Timeout", `timed out waiting for ${pending.map((t) => `${resourceRef(t.kind, t.name)} (${lastPhase.get(resourceRef(t.kind, t.name)) ?? "unknown"})`).join(", ")} to be Running`),
  );
}

function deletionProgress(ref: string, obj: ResourceObject): string {
  const f = obj.metadata?.finalizers ?? [];
  return `waiting for ${ref} to go: ${displayPhase(obj)}${f.length ? `, finalizers: ${f.join(", ")}` : ""}`;
}

/**
 * Resolves when every target answers 404, printing `… deleted` for each as it goes, and on
 * stderr what each is still waiting on whenever that changes, so a long wait is not silent.
 */
export async function waitForDeletion(client: ResourceClient, targets: readonly WaitTarget[], timeoutMs: number, io: CliIO): Promise<void> {
  const finalizers = new Map<WaitTarget, string[]>();
  const lastProgress = new Map<WaitTarget, string>();
  await pollTargets(
    client,
    targets,
    timeoutMs,
    io,
    (t, ref, obj) => {
      if (obj) {
        finalizers.set(t, obj.metadata?.finalizers ?? []);
        const line = deletionProgress(ref, obj);
        if (lastProgress.get(t) !== line) io.err(line);
        lastProgress.set(t, line);
        return false;
      }
      io.out(`${ref} deleted`);
      return true;
    },
    (pending) =>
      new CliError(
        "Timeout",
        `timed out waiting for deletion of ${pending
          .map((t) => {
            const f = finalizers.get(t) ?? [];
            return `${resourceRef(t.kind, t.name)}${f.length ? ` (finalizers: ${f.join(", ")})` : ""}`;
          })
          .join(", ")}`,
      ),
  );
}
