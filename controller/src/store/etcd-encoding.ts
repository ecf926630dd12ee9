// How objects sit in etcd: one key per object, `<prefix><resource>/<namespace>/<name>`
// (cluster-scoped objects have an empty namespace), the value its JSON without
// metadata.resourceVersion. As in Kubernetes, the version is not stored: it is the key's
// mod revision, spliced into the text on the way out. The value is written with metadata
// first, so the splice is a string join and a list never parses what it returns.
import type { StoredObject } from "./store.js";

const HEAD = '{"metadata":{';

export function objectKey(prefix: string, resource: string, namespace: string, name: string): string {
  return `${prefix}${resource}/${namespace}/${name}`;
}

/** The key prefix of a collection, of one namespace when given. */
export function collectionPrefix(prefix: string, resource: string, namespace?: string): string {
  return namespace === undefined ? `${prefix}${resource}/` : `${prefix}${resource}/${namespace}/`;
}

/** The first key after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string | Buffer): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i] = b[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** Splits a stored key back into resource, namespace and name; undefined for a key of someone else's. */
export function parseKey(prefix: string, key: string): { resource: string; namespace: string; name: string } | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const parts = key.slice(prefix.length).split("/");
  if (parts.length !== 3) return undefined;
  return { resource: parts[0]!, namespace: parts[1]!, name: parts[2]! };
}

/** The value written for an object: its JSON, metadata first, without a resourceVersion. */
export function encodeObject(object: StoredObject): string {
  const { metadata, ...rest } = object;
  const { resourceVersion: _ignored, ...meta } = metadata;
  return JSON.stringify({ metadata: meta, ...rest });
}

/** The stored JSON as the API hands it out: with metadata.resourceVersion = the mod revision. */
export function withVersion(value: string, revision: string): string {
  if (value.startsWith(HEAD)) {
    const tail = value.slice(HEAD.length);
    return `${HEAD}"resourceVersion":${JSON.stringify(revision)}${tail.startsWith("}") ? "" : ","}${tail}`;
  }
  // Written by something else (or by hand): the slow way, still correct.
  const object = JSON.parse(value) as StoredObject;
  return JSON.stringify({ ...object, metadata: { ...object.metadata, resourceVersion: revision } });
}

export function decodeObject(value: string, revision: string): StoredObject {
  return JSON.parse(withVersion(value, revision)) as StoredObject;
}
