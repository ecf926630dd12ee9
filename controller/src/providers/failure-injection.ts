// Lets reconciler tests make an in-memory twin fail the way a real backend does (API down,
// rate limited) without a real backend. Every twin asks `check(method)` before doing anything.
import { ProviderError, type ProviderErrorReason } from "./provider-error.js";

interface Pending {
  remaining: number;
  message: string;
  reason: ProviderErrorReason;
  methods?: readonly string[];
}

export class FailureInjector {
  private pending: Pending[] = [];
  private failing: { message: string; reason: ProviderErrorReason } | undefined;

  /** The next `n` calls (to `methods`, or to any method) reject with `message`. */
  failNext(n: number, message: string, options: { reason?: ProviderErrorReason; methods?: readonly string[] } = {}): void {
    if (n > 0) this.pending.push({ remaining: n, message, reason: options.reason ?? "Unavailable", methods: options.methods });
  }

  /** Every call rejects with `message` until called again with `undefined`. */
  setFailing(message: string | undefined, reason: ProviderErrorReason = "Unavailable"): void {
    this.failing = message === undefined ? undefined : { message, reason };
  }

  /** Throws the injected error for this call, if one is due. */
  check(method: string): void {
    if (this.failing) throw new ProviderError(this.failing.reason, this.failing.message);
    const due = this.pending.find((p) => !p.methods || p.methods.includes(method));
    if (!due) return;
    due.remaining -= 1;
    if (due.remaining <= 0) this.pending = this.pending.filter((p) => p !== due);
    throw new ProviderError(due.reason, due.message);
  }
}
