// The seeded sequence of operations of a chaos run: creates, updates (a new GEN in the
// spec's env) and deletes, with at most `maxLive` resources alive at once (each is a real
// agent and server process), and the operation indices after which the server is killed.
import type { Rng } from "./rng.js";

export type Op = { op: "create" | "update"; name: string; gen: number } | { op: "delete"; name: string };

export interface ChaosPlan {
  ops: Op[];
  /** Per op index, how many kills are scheduled right after it (in ms after the op, each). */
  kills: Map<number, number[]>;
  /** What should exist at the end: name → last GEN. */
  declared: Map<string, number>;
}

export function planChaos(rng: Rng, o: { creates: number; updates: number; deletes: number; kills: number; maxLive: number }): ChaosPlan {
  const ops: Op[] = [];
  const live = new Map<string, number>();
  let created = 0, updated = 0, deleted = 0;
  while (created < o.creates || updated < o.updates || deleted < Math.min(o.deletes, o.creates)) {
    const canCreate = created < o.creates && live.size < o.maxLive;
    const canDelete = deleted < o.deletes && live.size > 0;
    const canUpdate = updated < o.updates && live.size > 0;
    const choices = [canCreate && "create", canCreate && "create", canUpdate && "update", canDelete && "delete"].filter((c): c is string => !!c);
    if (choices.length === 0) break;
    const names = [...live.keys()];
    const choice = rng.pick(choices);
    if (choice === "create") {
      const name = `gs-${created++}`;
      live.set(name, 1);
      ops.push({ op: "create", name, gen: 1 });
    } else if (choice === "update") {
      const name = rng.pick(names);
      const gen = live.get(name)! + 1;
      live.set(name, gen);
      updated++;
      ops.push({ op: "update", name, gen });
    } else {
      const name = rng.pick(names);
      live.delete(name);
      deleted++;
      ops.push({ op: "delete", name });
    }
  }
  const kills = new Map<number, number[]>();
  for (let k = 0; k < o.kills; k++) {
    const at = rng.int(0, Math.max(0, ops.length - 1));
    kills.set(at, [...(kills.get(at) ?? []), rng.int(0, 1500)]);
  }
  return { ops, kills, declared: live };
}
