// Label selectors as SQL over the labels table, so a list that matches 1% of 10,000
// objects reads 1% of them instead of parsing every row.
import type { LabelSelector, Requirement } from "./label-selector.js";

export interface SqlCondition {
  sql: string;
  params: string[];
}

function one(r: Requirement): SqlCondition {
  switch (r.operator) {
    case "exists":
    case "!exists":
      return { sql: `o.id ${r.operator === "exists" ? "IN" : "NOT IN"} (SELECT object FROM labels WHERE key = ?)`, params: [r.key] };
    case "=":
    case "!=":
      return { sql: `o.id ${r.operator === "=" ? "IN" : "NOT IN"} (SELECT object FROM labels WHERE key = ? AND value = ?)`, params: [r.key, r.values[0]!] };
    case "in":
    case "notin": {
      const marks = r.values.map(() => "?").join(", ");
      return { sql: `o.id ${r.operator === "in" ? "IN" : "NOT IN"} (SELECT object FROM labels WHERE key = ? AND value IN (${marks}))`, params: [r.key, ...r.values] };
    }
  }
}

/** The conditions (ANDed) that select the objects matching `selector`; none for the empty selector. */
export function selectorConditions(selector: LabelSelector): SqlCondition[] {
  return selector.map(one);
}
