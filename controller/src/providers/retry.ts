// Retries for providers that talk to remote APIs. Transient failures (connection refused,
// 5xx, rate limits, Proxmox lock timeouts) are retried with capped exponential backoff on
// the injected clock, so tests drive the waits instead of sleeping; everything else fails at
// once, because retrying a refusal only delays the error the operator has to read.
import type { Clock } from "../engine/clock.js";
import { ProviderError } from "./provider-error.js";

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The longest server-requested wait (Retry-After) we sit out inside one call; a longer one
   * fails the call, so one rate-limited backend does not hold a worker for minutes.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

/** A failure worth another try; `retryAfterMs` is the wait the server asked for, if any. */
export class TransientError extends ProviderError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super("Unavailable", message, options);
  }
}

export interface RetryContext {
  clock: Clock;
  policy: RetryPolicy;
  /** Jitter source in [0, 1); injectable so tests see exact delays. */
  random?: () => number;
  /** Told about every failed try (for the one log line per failed call). */
  onFailure?: (err: ProviderError, attempt: number, willRetry: boolean) => void;
}

/** The wait before try `attempt + 1`: exponential, capped, with ±20 % jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Runs `call` until it succeeds, fails with a non-transient error, or runs out of tries. */
export async function withRetries<T>(ctx: RetryContext, call: (attempt: number) => Promise<T>): Promise<T> {
  const random = ctx.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      const perr = err instanceof ProviderError ? err : new ProviderError("Unavailable", String(err), { cause: err });
      const transient = perr instanceof TransientError;
      const tooLong = transient && perr.retryAfterMs !== undefined && perr.retryAfterMs > ctx.policy.maxRetryAfterMs;
      const willRetry = transient && !tooLong && attempt < ctx.policy.attempts;
      ctx.onFailure?.(perr, attempt, willRetry);
      if (!willRetry) {
        if (transient && attempt > 1) {
          throw new ProviderError("Unavailable", `${perr.message} (gave up after ${attempt} tries)`, { cause: perr });
        }
        if (tooLong) {
          throw new ProviderError("Unavailable", `${perr.message} (the server asked to wait ${Math.ceil(perr.retryAfterMs! / 1000)} s)`, { cause: perr });
        }
        throw perr;
      }
      const wait = transient && perr.retryAfterMs !== undefined ? perr.retryAfterMs : backoffDelay(ctx.policy, attempt, random);
      await ctx.clock.sleep(wait);
    }
  }
}
