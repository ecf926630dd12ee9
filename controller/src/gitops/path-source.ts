// A `source.path` Sync reads its folder where it is; the revision is the content hash.
import { statSync } from "node:fs";
import type { Sync } from "../../../schemas/generated/types.js";
import type { FetchedSource } from "./sync-reconciler.js";

export async function fetchPathSource(sync: Sync): Promise<FetchedSource> {
  const dir = sync.spec.source.path!;
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`folder ${dir} does not exist on the controller's machine`);
  }
  if (!isDir) throw new Error(`${dir} is not a folder`);
  return { dir };
}
