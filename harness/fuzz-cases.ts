// The seeded case generator of `npm run fuzz`: every case is a document or request a correct
// server and CLI must refuse, in the categories of issue 6 (names, traversal, rule injection,
// deep nesting, huge bodies, alias bombs, patches on metadata, control characters, NUL bytes).
import { stringify } from "yaml";
import type { Rng } from "./rng.js";
import { BAD_NAMES, INJECTIONS, TRAVERSALS, TRAVERSAL_SEGMENTS, badName, control, deepJson, spliced } from "./fuzz-values.js";

export const GROUP_PATH = "/apis/zerolaghub.dev/v1alpha1";
/** Objects the run creates before the cases, so updates and patches have something to hit. */
export const KEEP = ["keep-0", "keep-1"] as const;

export interface ApiCase {
  target: "api";
  category: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
}

export interface ApplyCase {
  target: "apply";
  category: string;
  /** The manifest file's bytes. */
  text: string | Buffer;
}

export type FuzzCase = ApiCase | ApplyCase;

type Doc = Record<string, any>;

export const gsPath = (ns = "default", name?: string): string => `${GROUP_PATH}/namespaces/${ns}/gameservers${name === undefined ? "" : `/${name}`}`;

export function gameServer(name: string): Doc {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name, namespace: "default", labels: { app: "fuzz" } },
    spec: { game: "minecraft", command: ["srv", "--port", "$(PORT_GAME)"], env: { A: "1" }, ports: [{ name: "game", port: 25565 }], shutdown: { command: "stop" } },
  };
}

function devEnvironment(name: string): Doc {
  return { apiVersion: "zerolaghub.dev/v1alpha1", kind: "DevEnvironment", metadata: { name, namespace: "default" }, spec: { ports: [{ port: 8080, expose: true }] } };
}

/** The document as a create: half through the raw API, half as a `zlh apply` file (YAML or JSON). */
function send(rng: Rng, category: string, doc: Doc): FuzzCase {
  if (rng.chance(0.5)) {
    const plural = doc.kind === "DevEnvironment" ? "devenvironments" : "gameservers";
    return { target: "api", category, method: "POST", path: `${GROUP_PATH}/namespaces/default/${plural}`, body: JSON.stringify(doc) };
  }
  return { target: "apply", category, text: rng.chance(0.7) ? stringify(doc) : JSON.stringify(doc) };
}

/** Sets one field of a fresh valid document to `value`, chosen among the fields that must refuse it. */
function planted(rng: Rng, i: number, value: string, fields: readonly string[]): Doc {
  const doc = gameServer(`fz-${i}`);
  const field = rng.pick(fields);
  switch (field) {
    case "name": doc.metadata.name = value; break;
    case "namespace": doc.metadata.namespace = value; break;
    case "hostname": doc.spec.hostname = value; break;
    case "portName": doc.spec.ports[0].name = value; break;
    case "labelKey": doc.metadata.labels = { [value]: "x" }; break;
    case "labelValue": doc.metadata.labels = { app: value }; break;
    case "command": doc.spec.command = ["srv", value]; break;
    case "envValue": doc.spec.env = { A: value }; break;
    case "envKey": doc.spec.env = { [value]: "1" }; break;
    case "stop": doc.spec.shutdown = { command: value }; break;
    case "annotation": doc.metadata.annotations = { note: value }; break;
    case "annotationKey": doc.metadata.annotations = { [value]: "x" }; break;
    case "finalizer": doc.metadata.finalizers = [value]; break;
    case "game": doc.spec.game = value; break;
    default: throw new Error(`unknown field ${field}`);
  }
  return doc;
}

function names(rng: Rng, i: number): FuzzCase {
  if (rng.chance(0.15)) {
    const ns = encodeURIComponent(rng.pick(BAD_NAMES.filter((n) => n !== "")));
    return { target: "api", category: "names", method: "POST", path: gsPath(ns), body: JSON.stringify({ ...gameServer(`fz-${i}`), metadata: { name: `fz-${i}` } }) };
  }
  if (rng.chance(0.1)) {
    // A body naming another namespace than the path it is posted to.
    const doc = gameServer(`fz-${i}`);
    doc.metadata.namespace = "elsewhere";
    return { target: "api", category: "names", method: "POST", path: gsPath("default"), body: JSON.stringify(doc) };
  }
  const doc = rng.chance(0.2) ? devEnvironment(badName(rng, i)) : planted(rng, i, badName(rng, i), ["name", "namespace", "hostname", "portName"]);
  return send(rng, "names", doc);
}

function traversal(rng: Rng, i: number): FuzzCase {
  if (rng.chance(0.5)) {
    const seg = rng.pick(TRAVERSAL_SEGMENTS);
    const method = rng.pick(["GET", "PUT", "DELETE", "PATCH", "POST"]);
    const inNamespace = rng.chance(0.3);
    const path = inNamespace ? `${GROUP_PATH}/namespaces/${seg}/gameservers/${KEEP[0]}` : gsPath("default", seg) + (rng.chance(0.3) ? `/${rng.pick(TRAVERSAL_SEGMENTS)}` : "");
    const body = method === "GET" || method === "DELETE" ? undefined : method === "PATCH" ? '{"metadata":{"labels":{"x":"y"}}}' : JSON.stringify(gameServer(KEEP[0]));
    return { target: "api", category: "traversal", method, path, body, contentType: method === "PATCH" ? "application/merge-patch+json" : undefined };
  }
  return send(rng, "traversal", planted(rng, i, rng.pick(TRAVERSALS), ["name", "namespace", "hostname", "portName", "labelKey", "labelValue", "finalizer"]));
}

function ruleInjection(rng: Rng, i: number): FuzzCase {
  return send(rng, "ruleInjection", planted(rng, i, rng.pick(INJECTIONS), ["hostname", "name", "namespace", "portName", "game"]));
}

function deepNesting(rng: Rng, i: number): FuzzCase {
  const depth = rng.pick([64, 200, 1000, 5000, 20_000, 100_000]);
  const at = rng.pick(["env", "labels", "annotations", "unknown", "command"]);
  const doc = JSON.stringify(gameServer(`fz-${i}`));
  const deep = deepJson(rng, depth);
  const text = at === "env" ? doc.replace('{"A":"1"}', deep)
    : at === "labels" ? doc.replace('{"app":"fuzz"}', deep)
    : at === "command" ? doc.replace('["srv","--port","$(PORT_GAME)"]', `["srv",${deep}]`)
    : at === "annotations" ? doc.replace('"labels":', `"annotations":{"a":${deep}},"labels":`)
    : doc.replace('"spec":{', `"spec":{"extra":${deep},`);
  if (rng.chance(0.5)) return { target: "api", category: "deepNesting", method: "POST", path: gsPath(), body: text };
  return { target: "apply", category: "deepNesting", text };
}

function hugeBody(rng: Rng, i: number): FuzzCase {
  const bytes = rng.int(512 * 1024 + 1, 4 * 1024 * 1024);
  const doc = gameServer(rng.chance(0.4) ? rng.pick(KEEP) : `fz-${i}`);
  const shape = rng.pick(["annotation", "manyAnnotations", "manyLabels"]);
  if (shape === "annotation") doc.metadata.annotations = { big: "x".repeat(bytes) };
  else if (shape === "manyLabels") doc.metadata.labels = Object.fromEntries(Array.from({ length: Math.ceil(bytes / 40) }, (_, k) => [`k${k}`, `v${"x".repeat(30)}`]));
  else doc.metadata.annotations = Object.fromEntries(Array.from({ length: Math.ceil(bytes / 1000) }, (_, k) => [`a${k}`, "y".repeat(990)]));
  const name = doc.metadata.name as string;
  const mode = rng.pick(["create", "replace", "patch", "apply"]);
  if (mode === "apply") return { target: "apply", category: "hugeBody", text: JSON.stringify(doc) };
  if (mode === "patch") return { target: "api", category: "hugeBody", method: "PATCH", path: gsPath("default", KEEP[0]), body: JSON.stringify({ metadata: { annotations: doc.metadata.annotations ?? { big: "x".repeat(bytes) } } }), contentType: "application/merge-patch+json" };
  if (mode === "replace" && name.startsWith("keep")) return { target: "api", category: "hugeBody", method: "PUT", path: gsPath("default", name), body: JSON.stringify(doc) };
  return { target: "api", category: "hugeBody", method: "POST", path: gsPath(), body: JSON.stringify(doc) };
}

/** A billion-laughs document: `levels` anchors, each aliasing the previous one ten times. */
function aliasBomb(rng: Rng, i: number): FuzzCase {
  const levels = rng.int(4, 9);
  const lines = ["apiVersion: zerolaghub.dev/v1alpha1", "kind: GameServer", "x0: &a0 \"lol\""];
  for (let l = 1; l <= levels; l++) lines.push(`x${l}: &a${l} [${Array.from({ length: 10 }, () => `*a${l - 1}`).join(", ")}]`);
  const where = rng.pick(["metadata", "spec"]);
  if (where === "metadata") lines.push(`metadata: { name: fz-${i}, annotations: { bomb: *a${levels} } }`, "spec: { game: generic, command: [srv], ports: [{ name: g, port: 1 }] }");
  else lines.push(`metadata: { name: fz-${i} }`, `spec: { game: generic, command: *a${levels}, ports: [{ name: g, port: 1 }] }`);
  const text = lines.join("\n") + "\n";
  // The API speaks JSON only: a YAML body must be refused as a media type, whatever it holds.
  if (rng.chance(0.2)) return { target: "api", category: "aliasBomb", method: "POST", path: gsPath(), body: text, contentType: rng.pick(["application/yaml", "application/apply-patch+yaml"]) };
  return { target: "apply", category: "aliasBomb", text };
}

const MERGE_PATCHES: Doc[] = [
  { metadata: { name: "renamed" } }, { metadata: { namespace: "elsewhere" } }, { metadata: { uid: "00000000-0000-0000-0000-000000000000" } },
  { kind: "DevEnvironment" }, { apiVersion: "v1" }, { metadata: { resourceVersion: "not-a-version" } }, { spec: null },
  { metadata: { labels: { "bad key!": "x" } } }, { metadata: { labels: { app: "a`b" } } },
  { spec: { ports: [] } }, { spec: { command: [] } }, { spec: { hostname: "a`) || Host(`x" } }, { metadata: { finalizers: [""] } },
  { metadata: { annotations: { a: "b\u0000" } } }, { spec: { env: { A: "\u001b[2J" } } },
];

const JSON_PATCHES: unknown[] = [
  [{ op: "replace", path: "/metadata/name", value: "renamed" }],
  [{ op: "replace", path: "/metadata/uid", value: "x" }], [{ op: "replace", path: "/metadata/namespace", value: "elsewhere" }],
  [{ op: "move", from: "/metadata", path: "/spec/x" }], [{ op: "add", path: "/metadata/__proto__/polluted", value: 1 }],
  [{ op: "add", path: "/__proto__/polluted", value: 1 }], [{ op: "add", path: "/constructor/prototype/polluted", value: 1 }],
  [{ op: "test", path: "/spec/game", value: "nope" }, { op: "replace", path: "/spec/game", value: "generic" }],
  [{ op: "bogus", path: "/spec" }], [{ op: "replace", path: "spec", value: {} }], [{ op: "copy", from: "/spec", path: "/metadata" }],
  [{ op: "remove", path: "/spec" }], [{ op: "replace", path: "/kind", value: "DevEnvironment" }],
  [{ op: "replace", path: "/metadata/resourceVersion", value: "not-a-version" }, { op: "add", path: "/metadata/labels/x", value: "y" }],
  { op: "replace", path: "/spec/game", value: "generic" }, "not a patch", [1, 2, 3],
];

function metadataPatch(rng: Rng): FuzzCase {
  const target = gsPath("default", rng.pick(KEEP));
  const kind = rng.pick(["merge", "strategic", "json", "put"]);
  if (kind === "json") return { target: "api", category: "metadataPatch", method: "PATCH", path: target, body: JSON.stringify(rng.pick(JSON_PATCHES)), contentType: "application/json-patch+json" };
  if (kind === "put") {
    const doc = gameServer(rng.pick(["renamed", KEEP[0], KEEP[1]]));
    const change = rng.pick(["name", "uid", "kind", "namespace"]);
    if (change === "uid") doc.metadata.uid = "00000000-0000-0000-0000-000000000000";
    if (change === "kind") doc.kind = "DevEnvironment";
    if (change === "namespace") doc.metadata.namespace = "elsewhere";
    if (change === "name") doc.metadata.name = "renamed";
    return { target: "api", category: "metadataPatch", method: "PUT", path: target, body: JSON.stringify(doc) };
  }
  const contentType = kind === "merge" ? "application/merge-patch+json" : "application/strategic-merge-patch+json";
  return { target: "api", category: "metadataPatch", method: "PATCH", path: target, body: JSON.stringify(rng.pick(MERGE_PATCHES)), contentType };
}

function controlChars(rng: Rng, i: number): FuzzCase {
  const field = rng.pick(["command", "envValue", "stop", "name", "labelValue", "hostname", "envKey", "portName"]);
  const base = field === "stop" && rng.chance(0.3) ? "say\nstop" : spliced(rng, "value", control(rng));
  return send(rng, "controlChars", planted(rng, i, base, [field]));
}

function nulBytes(rng: Rng, i: number): FuzzCase {
  const roll = rng.next();
  if (roll < 0.15) return { target: "api", category: "nulBytes", method: rng.pick(["GET", "DELETE"]), path: gsPath("default", `keep-0%00${rng.pick(["", "x", "/..", ".json"])}`) };
  if (roll < 0.3) {
    // A raw NUL byte outside any string: not JSON, not YAML.
    const text = spliced(rng, JSON.stringify(gameServer(`fz-${i}`)), "\u0000");
    return rng.chance(0.5) ? { target: "api", category: "nulBytes", method: "POST", path: gsPath(), body: text } : { target: "apply", category: "nulBytes", text };
  }
  const value = spliced(rng, "value", "\u0000");
  return send(rng, "nulBytes", planted(rng, i, value, ["command", "envValue", "stop", "name", "labelValue", "annotation", "annotationKey", "envKey", "finalizer", "hostname"]));
}

function malformed(rng: Rng, i: number): FuzzCase {
  const doc = JSON.stringify(gameServer(`fz-${i}`));
  const bodies: (string | Buffer)[] = [
    doc.slice(0, rng.int(0, doc.length - 1)), "[]", '"x"', "null", "1e999", `{"__proto__":${doc}}`,
    Buffer.concat([Buffer.from(doc.slice(0, 40)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(doc.slice(40))]),
    doc.replace('"port":25565', '"port":"25565"'), doc.replace('"port":25565', '"port":1e6'), doc.replace('"game":"minecraft"', '"game":["minecraft"]'),
    doc.replace('"kind":"GameServer"', '"kind":"Pod"'), doc.replace('"spec":{', '"spec":{"spec":{},'), "\ufeff" + doc.replace('"name":"game"', '"name":""'),
  ];
  const body = rng.pick(bodies);
  if (rng.chance(0.3)) return { target: "apply", category: "malformed", text: body };
  const contentType = rng.pick([undefined, undefined, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16"]);
  return { target: "api", category: "malformed", method: "POST", path: gsPath(), body, contentType };
}

const GENERATORS: Record<string, (rng: Rng, i: number) => FuzzCase> = {
  names, traversal, ruleInjection, deepNesting, hugeBody, aliasBomb, metadataPatch, controlChars, nulBytes, malformed,
};
export const CATEGORIES = Object.keys(GENERATORS);

/** Case `i` of a run: categories in turn (so a small run covers them all), the rest drawn from `rng`. */
export function fuzzCase(rng: Rng, i: number): FuzzCase {
  return GENERATORS[CATEGORIES[i % CATEGORIES.length]!]!(rng, i);
}
