// Promise helpers for giving up on calls that may hang (API requests during
// leader election) without leaving rejections unhandled.

import type { Clock } from "./clock.js";

/** `promise`'s value, or undefined as soon as `signal` aborts (the promise is left to settle unobserved). */
export function untilAborted<R>(promise: Promise<R>, signal: AbortSignal): Promise<R | undefined> {
  promise.catch(() => {});
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** True if `promise` settles within `ms` on `clock`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  const timeout = new AbortController();
  const timer = clock.setTimeout(() => timeout.abort(), ms);
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await untilAborted(settled, timeout.signal);
  clock.clearTimeout(timer);
  return result === true;
}
