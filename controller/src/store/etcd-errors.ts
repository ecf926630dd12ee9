// etcd and gRPC failures in the Store's own terms, so the API answers them as it answers
// SQLite's: no quorum or no connection is Unavailable (503), a compacted or future
// revision Expired (410), a full etcd StorageFull (507). Anything else is a bug and stays
// as it is (500).
import { ClientClosedError, GRPCDeadlineExceededError, GRPCUnavailableError } from "etcd3";
import { StoreError } from "./store.js";

const UNAVAILABLE = /no leader|leader changed|timed out|timeout|deadline|unavailable|connect|ECONNREFUSED|circuit|not capable|too many requests|stopped|lost/i;

export function translateEtcdError(e: unknown, what = ""): unknown {
  if (e instanceof StoreError) return e;
  if (!(e instanceof Error)) return e;
  const message = e.message;
  const about = what ? ` (${what})` : "";
  if (/required revision has been compacted/.test(message)) return new StoreError("Expired", `the requested resourceVersion has been compacted${about}`);
  if (/required revision is a future revision/.test(message)) return new StoreError("Expired", `the requested resourceVersion was not issued yet${about}`);
  if (e instanceof ClientClosedError) return new StoreError("Unavailable", "the store is closed");
  if (/database space exceeded/.test(message)) return new StoreError("StorageFull", "etcd database space exceeded");
  if (e instanceof GRPCUnavailableError || e instanceof GRPCDeadlineExceededError || UNAVAILABLE.test(message) || (e as { isBrokenCircuitError?: boolean }).isBrokenCircuitError === true) {
    return new StoreError("Unavailable", `etcd is unavailable: ${oneLine(message)}`);
  }
  return e;
}

function oneLine(message: string): string {
  const first = message.split("\n")[0]!.trim();
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}
