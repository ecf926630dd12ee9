// One problem found in a manifest, located as precisely as the input allows, so the
// operator can jump straight to it: `file:line:col (document N, GameServer "x"): message`.

export type ManifestErrorReason =
  | "FileNotFound"
  | "FileTooLarge"
  | "NotRegularFile"
  | "UnsupportedFile"
  | "YAMLSyntax"
  | "AliasLimit"
  | "UnsupportedKind"
  | "Invalid"
  | "Duplicate"
  | "NoDocuments";

export interface ManifestError {
  reason: ManifestErrorReason;
  file: string;
  line?: number;
  col?: number;
  /** 1-based index of the YAML document within its file. */
  document?: number;
  kind?: string;
  name?: string;
  message: string;
}

export function formatManifestError(e: ManifestError): string {
  let where = e.file;
  if (e.line !== undefined) where += `:${e.line}`;
  if (e.line !== undefined && e.col !== undefined) where += `:${e.col}`;
  if (e.document !== undefined) {
    const what = e.kind ? `, ${e.kind}${e.name ? ` ${JSON.stringify(e.name)}` : ""}` : "";
    where += ` (document ${e.document}${what})`;
  }
  return `${where}: ${e.message}`;
}
