// Sync conditions as Flux sets them: Ready (applied and healthy), Reconciling (work or
// health still in progress), Stalled (retrying cannot help until the source changes).
import type { SyncCondition } from "../../../schemas/generated/types.js";

export type ConditionValue = Pick<SyncCondition, "status" | "reason" | "message">;

/** Sets each condition, keeping lastTransitionTime when its status did not change. Ready first (the get column). */
export function withConditions(previous: readonly SyncCondition[] | undefined, now: string, generation: number | undefined, next: Record<SyncCondition["type"], ConditionValue>): SyncCondition[] {
  return (["Ready", "Reconciling", "Stalled"] as const).map((type) => {
    const prev = previous?.find((c) => c.type === type);
    const v = next[type];
    return {
      type,
      ...v,
      message: v.message.slice(0, 4096),
      lastTransitionTime: prev && prev.status === v.status ? prev.lastTransitionTime : now,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}

export const FALSE = (reason: string, message = ""): ConditionValue => ({ status: "False", reason, message });
export const TRUE = (reason: string, message: string): ConditionValue => ({ status: "True", reason, message });
