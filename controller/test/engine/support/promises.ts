/** Tracks a promise so a test can check, after flushing, whether it has settled. */
export function track<T>(promise: Promise<T>): { readonly settled: boolean; readonly value: T | undefined } {
  const state = { settled: false, value: undefined as T | undefined };
  promise.then(
    (v) => {
      state.settled = true;
      state.value = v;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
