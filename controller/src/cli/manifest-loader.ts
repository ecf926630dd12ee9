// Turns `-f` arguments into validated GameServer/DevEnvironment objects, or into a list
// of every problem found. All-or-nothing: callers get either documents or errors, so one
// bad document means nothing is sent to the server.
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import type { DevEnvironment, GameServer } from "../../../schemas/generated/types.js";
import { validateDocument } from "../../../schemas/validate.js";
import { API_VERSION, type KindName } from "./kinds.js";
import type { ManifestError } from "./manifest-error.js";
import { collectManifestFiles, readManifestFile } from "./manifest-files.js";
import { parseFieldPath, positionOf, type SourcePosition } from "./yaml-positions.js";

/** YAML aliases a document may expand; far above any honest manifest, far below a billion laughs. */
export const MAX_ALIAS_COUNT = 100;

export type ZlhObject = GameServer | DevEnvironment;

export interface LoadedManifest {
  file: string;
  document: number;
  line: number;
  col: number;
  kind: KindName;
  name: string;
  /** metadata.namespace, or the default namespace when the file leaves it out. */
  namespace: string;
  /** The document as written, with metadata.namespace filled in. */
  object: ZlhObject;
}

export interface LoadOptions {
  recursive?: boolean;
  defaultNamespace: string;
  /** Full schema validation (apply). `delete -f` only needs kind and name. */
  validate?: boolean;
}

/** A document that was left out on purpose, with why (printed as a note, not an error). */
export interface SkippedDocument {
  file: string;
  document: number;
  line: number;
  message: string;
}

export type LoadResult = { ok: true; manifests: LoadedManifest[]; skipped: SkippedDocument[] } | { ok: false; errors: ManifestError[] };

export function formatSkipped(s: SkippedDocument): string {
  return `note: ${s.file}:${s.line} (document ${s.document}): ${s.message}`;
}

/** Controller configs share the apiVersion, and `examples/` holds one; the server reads them, apply must not fail on them. */
function controllerConfigNote(ctx: DocContext, value: unknown): SkippedDocument | undefined {
  if (!isPlainObject(value) || value.kind !== "ControllerConfig" || value.apiVersion !== API_VERSION) return undefined;
  return { file: ctx.file, document: ctx.index, line: at(ctx, []).line, message: "ControllerConfig skipped: it configures `zlh server --config`, it is not a resource to apply" };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function syntaxErrors(file: string, doc: Document): ManifestError[] {
  return doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    // prettyErrors appends " at line L, column C:" and a source excerpt; the location is printed up front instead.
    const message = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    return { reason: "YAMLSyntax", file, line: pos?.line, col: pos?.col, message } satisfies ManifestError;
  });
}

interface DocContext {
  file: string;
  index: number;
  doc: Document;
  lineCounter: LineCounter;
}

function at(ctx: DocContext, segments: (string | number)[]): SourcePosition {
  return positionOf(ctx.doc, segments, ctx.lineCounter);
}

function checkDocument(ctx: DocContext, value: unknown, opts: LoadOptions): LoadedManifest | ManifestError[] {
  const { file, index: document } = ctx;
  const obj = isPlainObject(value) ? value : {};
  const kind = obj.kind;
  if (obj.apiVersion !== API_VERSION || (kind !== "GameServer" && kind !== "DevEnvironment")) {
    const pos = at(ctx, [obj.apiVersion !== API_VERSION ? "apiVersion" : "kind"]);
    const got = isPlainObject(value) ? `${JSON.stringify(obj.apiVersion ?? null)}/${JSON.stringify(kind ?? null)}` : `a ${Array.isArray(value) ? "list" : typeof value}`;
    return [{ reason: "UnsupportedKind", file, line: pos.line, document, message: `unsupported apiVersion/kind ${got}: expected ${API_VERSION} GameServer or DevEnvironment` }];
  }
  const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : undefined;
  const located = (path: string, message: string): ManifestError => {
    const pos = at(ctx, parseFieldPath(path));
    return { reason: "Invalid", file, line: pos.line, col: pos.col, document, kind, name, message: `${path}: ${message}` };
  };
  const errors = opts.validate === false
    ? name === undefined ? [located(".metadata.name", "required field is missing")] : []
    : validateDocument(kind, value).map((e) => located(e.path, e.message));
  if (errors.length > 0 || name === undefined) return errors;
  const namespace = typeof meta.namespace === "string" ? meta.namespace : opts.defaultNamespace;
  const start = at(ctx, []);
  const object = { ...obj, metadata: { ...meta, namespace } } as unknown as ZlhObject;
  return { file, document, line: start.line, col: start.col, kind, name, namespace, object };
}

function loadFile(file: string, opts: LoadOptions, manifests: LoadedManifest[], errors: ManifestError[], skipped: SkippedDocument[]): void {
  const read = readManifestFile(file);
  if ("error" in read) {
    errors.push(read.error);
    return;
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(read.text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(docs)) return; // an empty stream
  docs.forEach((doc, i) => {
    const ctx: DocContext = { file, index: i + 1, doc, lineCounter };
    if (doc.errors.length > 0) {
      errors.push(...syntaxErrors(file, doc).map((e) => ({ ...e, document: ctx.index })));
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const pos = at(ctx, []);
      const message = e instanceof ReferenceError
        ? `YAML aliases expand too far (limit ${MAX_ALIAS_COUNT}): refusing a possible alias bomb`
        : `cannot read document: ${(e as Error).message}`;
      errors.push({ reason: "AliasLimit", file, line: pos.line, col: pos.col, document: ctx.index, message });
      return;
    }
    if (value === null || value === undefined) return; // `---` separators around nothing
    const note = controllerConfigNote(ctx, value);
    if (note) {
      skipped.push(note);
      return;
    }
    const result = checkDocument(ctx, value, opts);
    // In file order, as an editor shows them (ajv reports in schema order).
    if (Array.isArray(result)) errors.push(...result.sort((x, y) => (x.line ?? 0) - (y.line ?? 0) || (x.col ?? 0) - (y.col ?? 0)));
    else manifests.push(result);
  });
}

function duplicateErrors(manifests: readonly LoadedManifest[]): ManifestError[] {
  const first = new Map<string, LoadedManifest>();
  const errors: ManifestError[] = [];
  for (const m of manifests) {
    const key = `${m.kind}/${m.namespace}/${m.name}`;
    const prev = first.get(key);
    if (!prev) {
      first.set(key, m);
      continue;
    }
    errors.push({
      reason: "Duplicate",
      file: m.file,
      line: m.line,
      col: m.col,
      document: m.document,
      kind: m.kind,
      name: m.name,
      message: `duplicate of document ${prev.document} in ${prev.file}:${prev.line} (same kind, namespace "${m.namespace}" and name)`,
    });
  }
  return errors;
}

/** Reads, parses and checks every document named by `paths`. */
export function loadManifests(paths: readonly string[], opts: LoadOptions): LoadResult {
  const { files, errors } = collectManifestFiles(paths, opts.recursive ?? false);
  const manifests: LoadedManifest[] = [];
  const skipped: SkippedDocument[] = [];
  for (const file of files) loadFile(file, opts, manifests, errors, skipped);
  errors.push(...duplicateErrors(manifests));
  if (errors.length > 0) return { ok: false, errors };
  if (manifests.length === 0) {
    return { ok: false, errors: [{ reason: "NoDocuments", file: paths.join(", "), message: "no GameServer or DevEnvironment documents found" }] };
  }
  return { ok: true, manifests, skipped };
}
