// A stand-in for client-node's Watch, so the informer tests drive the real
// ListWatch (the informer makeInformer returns) without an API server.

import type { KubernetesObject } from "@kubernetes/client-node";

export interface WatchSession {
  path: string;
  params: Record<string, unknown>;
  /** Delivers a watch event, as a line of the watch stream would. */
  emit(type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR", obj: KubernetesObject | { code: number }): void;
  /** Ends the stream: `null` is a clean close, an Error a failure (socket reset, 5xx…). */
  end(err: Error | null): void;
  readonly ended: boolean;
}

export class FakeWatch {
  readonly sessions: WatchSession[] = [];
  /** Makes the next watch request fail like a non-200 response. */
  failNextConnect: (Error & { statusCode?: number }) | undefined;

  last(): WatchSession {
    const s = this.sessions[this.sessions.length - 1];
    if (!s) throw new Error("no watch session yet");
    return s;
  }

  async watch(
    path: string,
    params: Record<string, unknown>,
    callback: (phase: string, obj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    let ended = false;
    const end = (err: unknown): void => {
      if (ended) return;
      ended = true;
      done(err);
    };
    const session: WatchSession = {
      path,
      params: { ...params },
      emit: (type, obj) => {
        if (!ended) callback(type, obj, { type, object: obj });
      },
      end,
      get ended() {
        return ended;
      },
    };
    this.sessions.push(session);
    // Aborting a real watch makes the response body fail with an AbortError.
    controller.signal.addEventListener("abort", () =>
      queueMicrotask(() => end(Object.assign(new Error("The operation was aborted."), { name: "AbortError" }))),
    );
    const connectError = this.failNextConnect;
    this.failNextConnect = undefined;
    if (connectError) end(connectError);
    return controller;
  }
}
