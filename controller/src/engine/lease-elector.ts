// Lease-based leader election following client-go's leaderelection package,
// so that only one controller replica mutates the world at a time.
//
// Safety rests on two local-clock rules (no clock sync between replicas
// needed): a follower only takes over a lease whose record has not changed for
// a full lease duration *as measured since it first saw that record*, and the
// leader considers itself deposed once renewDeadline (< leaseDuration) has
// passed since the start of its last successful renewal.

import { V1MicroTime, type V1Lease, type V1LeaseSpec } from "@kubernetes/client-node";
import { pino, type Logger } from "pino";
import { settlesWithin, untilAborted } from "./abortable.js";
import { realClock, type Clock, type TimerHandle } from "./clock.js";
import { ConflictError, type LeaseClient } from "./lease-client.js";

export interface LeaderCallbacks {
  /** Start leader-only work; `signal` aborts when leadership ends. May return a promise for that work. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Leadership ended (lost or stopped). Not called if we never led. */
  onStoppedLeading?(): void;
  /** The observed holder changed (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaseElectorOptions {
  client: LeaseClient;
  namespace: string;
  name: string;
  /** Unique per process (e.g. pod name + random suffix); a restarted process must not reuse a live identity. */
  identity: string;
  callbacks: LeaderCallbacks;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** On stop, hand the lease over (empty holder, 1 s duration) once leader work has finished. */
  releaseOnCancel?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Jitter source for acquire retries; inject for deterministic tests. */
  random?: () => number;
}

// Acquire retries wait retryPeriod * [1, 2.2), as client-go's JitterFactor 1.2.
const JITTER_FACTOR = 1.2;

export class LeaseElector {
  private readonly o: Required<Omit<LeaseElectorOptions, "logger" | "random">>;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly leaseDurationSec: number;

  private observedKey: string | undefined;
  private observedAt = 0;
  private observedHolder = "";
  private leading = false;
  private lastRenewAt = 0;
  private watchdog: TimerHandle | undefined;
  private stopCtl: AbortController | undefined;
  private current: Promise<void> | undefined;

  constructor(options: LeaseElectorOptions) {
    this.o = {
      ...options,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
      releaseOnCancel: options.releaseOnCancel ?? false,
      clock: options.clock ?? realClock,
    };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.o;
    if (!(leaseDurationMs > renewDeadlineMs)) throw new RangeError("leaseDurationMs must exceed renewDeadlineMs");
    if (!(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs)) {
      throw new RangeError("renewDeadlineMs must exceed 1.2 * retryPeriodMs");
    }
    this.leaseDurationSec = Math.ceil(leaseDurationMs / 1000);
    this.random = options.random ?? Math.random;
    this.log = (options.logger ?? pino({ level: "silent" })).child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Last observed holder identity, if any. */
  getLeader(): string | undefined {
    return this.observedHolder || undefined;
  }

  /**
   * Campaigns until elected, then leads until leadership is lost or `signal`
   * aborts / stop() is called. Resolves then; like client-go it does not
   * campaign again (exit the process, or call run() again).
   */
  run(signal?: AbortSignal): Promise<void> {
    if (this.current) throw new Error("LeaseElector is already running");
    const stopCtl = new AbortController();
    this.stopCtl = stopCtl;
    const stop = signal ? AbortSignal.any([signal, stopCtl.signal]) : stopCtl.signal;
    this.current = this.campaignAndLead(stop).finally(() => {
      this.current = undefined;
      this.stopCtl = undefined;
    });
    return this.current;
  }

  /** Stops campaigning or leading; resolves when run() has finished (after any release). */
  async stop(): Promise<void> {
    this.stopCtl?.abort();
    await this.current;
  }

  private async campaignAndLead(stop: AbortSignal): Promise<void> {
    const { clock, retryPeriodMs } = this.o;
    for (;;) {
      if (stop.aborted) return;
      const attemptAt = clock.now();
      if (await this.tryAcquireOrRenew(stop)) {
        this.lastRenewAt = attemptAt;
        break;
      }
      await clock.sleep(retryPeriodMs * (1 + JITTER_FACTOR * this.random()), stop);
    }
    await this.lead(stop);
  }

  private async lead(stop: AbortSignal): Promise<void> {
    const { clock, retryPeriodMs, callbacks } = this.o;
    const leader = new AbortController();
    this.leading = true;
    this.armWatchdog(leader);
    this.log.info("became leader");
    const work = Promise.resolve()
      .then(() => callbacks.onStartedLeading(leader.signal))
      .then(
        () => undefined,
        (err: unknown) => this.log.error({ err }, "onStartedLeading failed"),
      );

    const active = AbortSignal.any([stop, leader.signal]);
    while (!active.aborted) {
      await clock.sleep(retryPeriodMs, active);
      if (active.aborted) break;
      const attemptAt = clock.now();
      const renewed = await this.tryAcquireOrRenew(active);
      if (leader.signal.aborted) break;
      if (renewed) {
        this.lastRenewAt = attemptAt;
        this.armWatchdog(leader);
      } else if (this.observedHolder !== this.o.identity) {
        this.stepDown(leader, `lease taken over by ${this.observedHolder || "nobody"}`);
      }
    }
    if (leader.signal.aborted) return;

    this.stepDown(leader, "stopped");
    if (!this.o.releaseOnCancel) return;
    // Handing over while our own leader work still runs would give two
    // leaders; past the renew deadline we are no longer entitled to act on the
    // lease at all, so in that case let it expire on its own.
    const remaining = this.lastRenewAt + this.o.renewDeadlineMs - clock.now();
    if (remaining > 0 && (await settlesWithin(work, remaining, clock))) {
      const left = this.lastRenewAt + this.o.renewDeadlineMs - clock.now();
      if (left > 0) await settlesWithin(this.release(), left, clock);
    }
  }

  private stepDown(leader: AbortController, reason: string): void {
    this.o.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
    if (!this.leading) return;
    this.leading = false;
    this.log.info({ reason }, "stopped leading");
    leader.abort();
    try {
      this.o.callbacks.onStoppedLeading?.();
    } catch (err) {
      this.log.error({ err }, "onStoppedLeading failed");
    }
  }

  // Fires even while a renewal request hangs: the deadline is what keeps us
  // from acting as leader after a follower may already have taken over.
  private armWatchdog(leader: AbortController): void {
    const { clock, renewDeadlineMs } = this.o;
    clock.clearTimeout(this.watchdog);
    this.watchdog = clock.setTimeout(
      () => this.stepDown(leader, "failed to renew within renewDeadline"),
      this.lastRenewAt + renewDeadlineMs - clock.now(),
    );
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    try {
      return (await untilAborted(this.acquireOrRenewOnce(), signal)) ?? false;
    } catch (err) {
      if (err instanceof ConflictError) this.log.debug("lease update conflicted; another candidate won");
      else this.log.warn({ err }, "lease get/update failed");
      return false;
    }
  }

  private async acquireOrRenewOnce(): Promise<boolean> {
    const { client, namespace, name, identity, clock } = this.o;
    const now = clock.now();
    const existing = await client.get(namespace, name);
    if (!existing) {
      const created = await client.create({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { namespace, name },
        spec: this.ownSpec(now, undefined, 0),
      });
      this.observe(created);
      return true;
    }
    this.observe(existing);
    const spec = existing.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    if (holder && holder !== identity) {
      const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationSec) * 1000;
      if (this.observedAt + durationMs > clock.now()) return false;
    }
    const mine = holder === identity;
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const updated = await client.replace({
      ...existing,
      spec: { ...spec, ...this.ownSpec(now, mine ? spec.acquireTime : undefined, transitions) },
    });
    this.observe(updated);
    return true;
  }

  private ownSpec(now: number, acquireTime: V1LeaseSpec["acquireTime"], transitions: number): V1LeaseSpec {
    // V1MicroTime serialises with the microsecond precision the API requires.
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: this.leaseDurationSec,
      acquireTime: acquireTime ?? new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      leaseTransitions: transitions,
    };
  }

  private async release(): Promise<void> {
    const { client, namespace, name, identity, clock } = this.o;
    try {
      const lease = await client.get(namespace, name);
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(clock.now());
      const released = await client.replace({
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      });
      this.observe(released);
      this.log.info("released lease");
    } catch (err) {
      this.log.warn({ err }, "failed to release lease; successor waits for expiry");
    }
  }

  private observe(lease: V1Lease): void {
    const key = recordKey(lease);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = this.o.clock.now();
    }
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder === this.observedHolder) return;
    this.observedHolder = holder;
    if (!holder) return;
    try {
      this.o.callbacks.onNewLeader?.(holder);
    } catch (err) {
      this.log.error({ err }, "onNewLeader failed");
    }
  }
}

// Times come back from the API as strings although typed V1MicroTime, so
// compare them as instants.
function instant(t: unknown): number | null {
  if (t === undefined || t === null) return null;
  return new Date(t as string | Date).getTime();
}

function recordKey(lease: V1Lease): string {
  const s = lease.spec ?? {};
  return JSON.stringify([
    lease.metadata?.resourceVersion ?? null,
    s.holderIdentity ?? "",
    s.leaseDurationSeconds ?? null,
    s.leaseTransitions ?? null,
    instant(s.acquireTime),
    instant(s.renewTime),
  ]);
}
