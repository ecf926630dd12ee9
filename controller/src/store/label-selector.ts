// Kubernetes label selector syntax (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`), parsed once per
// request and matched against each object's labels.

export type RequirementOperator = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

export interface Requirement {
  key: string;
  operator: RequirementOperator;
  values: string[];
}

/** All requirements must hold; the empty selector matches everything. */
export type LabelSelector = Requirement[];

/** A selector that does not parse: the API answers 400 with this message. */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
  readonly reason = "BadRequest";
}

const KEY = String.raw`(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?`;
const EXISTS = new RegExp(`^(${KEY})$`);
const NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const VALUE_ONLY = new RegExp(`^${VALUE}$`);

// Commas separate requirements except inside the parentheses of a set.
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw new SelectorError(`unbalanced parentheses in label selector ${JSON.stringify(text)}`);
  }
  if (depth !== 0) throw new SelectorError(`unbalanced parentheses in label selector ${JSON.stringify(text)}`);
  terms.push(text.slice(start));
  return terms.map((t) => t.trim());
}

function parseTerm(term: string, whole: string): Requirement {
  let m = NOT_EXISTS.exec(term);
  if (m) return { key: m[1]!, operator: "!exists", values: [] };
  m = EXISTS.exec(term);
  if (m) return { key: m[1]!, operator: "exists", values: [] };
  m = EQUALITY.exec(term);
  if (m) return { key: m[1]!, operator: m[2] === "!=" ? "!=" : "=", values: [m[3]!] };
  m = SET.exec(term);
  if (m) {
    const values = m[3]!.split(",").map((v) => v.trim());
    const bad = values.find((v) => !VALUE_ONLY.test(v));
    if (bad !== undefined) throw new SelectorError(`invalid label value ${JSON.stringify(bad)} in label selector ${JSON.stringify(whole)}`);
    return { key: m[1]!, operator: m[2] as "in" | "notin", values };
  }
  throw new SelectorError(`unable to parse requirement ${JSON.stringify(term)} in label selector ${JSON.stringify(whole)}`);
}

export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (text === undefined || text.trim() === "") return [];
  return splitTerms(text).map((t) => {
    if (t === "") throw new SelectorError(`empty requirement in label selector ${JSON.stringify(text)}`);
    return parseTerm(t, text);
  });
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const r of selector) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.operator) {
      case "exists":
        if (!has) return false;
        break;
      case "!exists":
        if (has) return false;
        break;
      case "=":
        if (value !== r.values[0]) return false;
        break;
      case "!=":
        if (value === r.values[0]) return false;
        break;
      case "in":
        if (value === undefined || !r.values.includes(value)) return false;
        break;
      case "notin":
        if (value !== undefined && r.values.includes(value)) return false;
        break;
    }
  }
  return true;
}
