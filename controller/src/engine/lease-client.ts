// The three Lease operations leader election needs, behind an interface so
// the elector can be tested against an in-memory store and fake clock.

import { CoordinationV1Api, type KubeConfig, type V1Lease } from "@kubernetes/client-node";

/** Someone else wrote the Lease first (HTTP 409: stale resourceVersion, or it already exists). */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface LeaseClient {
  /** The Lease, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  /** Creates `lease` (namespace/name from its metadata); ConflictError if it exists. */
  create(lease: V1Lease): Promise<V1Lease>;
  /** Optimistic update using `lease.metadata.resourceVersion`; ConflictError on a stale version. */
  replace(lease: V1Lease): Promise<V1Lease>;
}

function statusOf(err: unknown): number | undefined {
  // client-node throws ApiException with the HTTP status in `code`.
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

function coordinates(lease: V1Lease): { namespace: string; name: string } {
  const namespace = lease.metadata?.namespace;
  const name = lease.metadata?.name;
  if (!namespace || !name) throw new Error("lease needs metadata.namespace and metadata.name");
  return { namespace, name };
}

async function mapConflict<R>(op: string, call: () => Promise<R>): Promise<R> {
  try {
    return await call();
  } catch (err) {
    if (statusOf(err) === 409) throw new ConflictError(`lease ${op} conflicted`, { cause: err });
    throw err;
  }
}

/** LeaseClient over the real API server (coordination.k8s.io/v1). */
export function coordinationLeaseClient(kc: KubeConfig): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  return {
    async get(namespace, name) {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    create: (lease) =>
      mapConflict("create", () => api.createNamespacedLease({ namespace: coordinates(lease).namespace, body: lease })),
    replace: (lease) => mapConflict("replace", () => api.replaceNamespacedLease({ ...coordinates(lease), body: lease })),
  };
}
