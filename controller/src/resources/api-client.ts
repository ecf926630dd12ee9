// The reconcilers' only way to write: replace with resourceVersion preconditions, so a
// stale cache can never overwrite a newer object (the API answers 409 and we requeue).
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { ResourceStatus } from "../../../schemas/generated/types.js";
import { GROUP, VERSION, pluralOf, type ZlhResource } from "../plan/resource.js";

export interface ResourceWriter {
  replace(obj: ZlhResource): Promise<ZlhResource>;
  replaceStatus(obj: ZlhResource, status: ResourceStatus): Promise<ZlhResource>;
}

export function apiResourceWriter(kc: KubeConfig): ResourceWriter {
  const api = kc.makeApiClient(CustomObjectsApi);
  const target = (obj: ZlhResource) => ({
    group: GROUP,
    version: VERSION,
    namespace: obj.metadata.namespace ?? "default",
    plural: pluralOf(obj.kind),
    name: obj.metadata.name,
  });
  return {
    async replace(obj) {
      return (await api.replaceNamespacedCustomObject({ ...target(obj), body: obj }).catch(rethrow)) as ZlhResource;
    },
    async replaceStatus(obj, status) {
      return (await api.replaceNamespacedCustomObjectStatus({ ...target(obj), body: { ...obj, status } }).catch(rethrow)) as ZlhResource;
    },
  };
}

/** An API failure reduced to what matters: status code, Status reason and message. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

// client-node's ApiException message embeds the whole response (headers included):
// too noisy for logs, and callers only need the code and the Status.
function rethrow(err: unknown): never {
  const code = httpStatusOf(err);
  if (code === undefined) throw err;
  let status: { reason?: string; message?: string } = {};
  try {
    status = JSON.parse(String((err as { body?: unknown }).body ?? "{}")) as typeof status;
  } catch {
    // not a Status body
  }
  throw new ApiError(code, status.reason ?? "Unknown", status.message ?? `HTTP ${code}`);
}

/** client-node's ApiException carries the HTTP status as `code`. */
export function httpStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}
