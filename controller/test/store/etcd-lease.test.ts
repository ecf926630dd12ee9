// One controller at a time across several zlh servers on one etcd: each server's elector
// campaigns for the same Lease through its own API server, and etcd's compare-and-swap
// lets only one hold it. Kill the leader's server and the other takes over once the lease
// has gone unrenewed for its duration. The fake clock moves only after each request it
// triggered has landed, so the outcome never depends on how fast the machine is.
import type { V1Lease } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { coordinationLeaseClient } from "../../src/engine/lease-client.js";
import { LeaseElector } from "../../src/engine/lease-elector.js";
import { startTestServer, waitFor, type TestServer } from "../api/api-test-server.js";
import { startEtcdCluster, type EtcdCluster } from "./etcd-server.js";

const LEASE = "/apis/coordination.k8s.io/v1/namespaces/default/leases/zlh-controller";

describe("the controller Lease across two API servers on one etcd", () => {
  let etcd: EtcdCluster;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    etcd = await startEtcdCluster(1);
    const store = { kind: "etcd" as const, endpoints: etcd.endpoints, prefix: "/zlh-lease/" };
    servers.push(await startTestServer({ store }), await startTestServer({ store }));
  }, 60_000);
  afterAll(async () => {
    for (const s of servers) await s.dispose();
    await etcd?.stop();
  });

  it("lets exactly one lead; when the leader's server dies, the other takes over and nobody leads twice", async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const started: string[] = [];
    const electors = servers.map((s, i) => {
      const identity = `server-${i}`;
      const elector = new LeaseElector({
        client: coordinationLeaseClient(s.kc),
        namespace: "default",
        name: "zlh-controller",
        identity,
        clock,
        random: () => 0,
        callbacks: {
          onStartedLeading: (signal) => {
            started.push(identity);
            return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
          },
        },
      });
      return { identity, elector, run: elector.run() };
    });
    const lease = async (s: TestServer): Promise<V1Lease | undefined> => {
      const r = await s.raw("GET", LEASE);
      return r.status === 200 ? (r.json as V1Lease) : undefined;
    };
    const first = await waitFor("a leader", async () => (await lease(servers[1]!))?.spec?.holderIdentity);
    await waitFor("it to start leading", () => (started.length > 0 ? true : undefined));
    expect(started).toEqual([first]);
    const leaderIndex = electors.findIndex((e) => e.identity === first);
    const follower = electors[1 - leaderIndex]!;
    const followerServer = servers[1 - leaderIndex]!;

    // Several renewals: the follower never takes over a lease that keeps changing.
    for (let round = 0; round < 10; round++) {
      const before = (await lease(followerServer))?.spec?.renewTime;
      await clock.advanceAsync(2000);
      await waitFor("the renewal", async () => {
        const now = (await lease(followerServer))?.spec?.renewTime;
        return now !== undefined && String(now) !== String(before) ? true : undefined;
      });
    }
    expect(started).toEqual([first]);
    expect(follower.elector.isLeader()).toBe(false);

    // The leader's process dies: its elector stops renewing and its API server goes away.
    await electors[leaderIndex]!.elector.stop();
    await servers[leaderIndex]!.stop();
    servers.splice(leaderIndex, 1);
    await waitFor(
      "the follower to take over",
      async () => {
        await clock.advanceAsync(1000);
        return follower.elector.isLeader() ? true : undefined;
      },
      30_000,
    );
    expect(started).toEqual([first, follower.identity]);
    expect((await lease(followerServer))?.spec).toMatchObject({ holderIdentity: follower.identity, leaseTransitions: 1 });
    await follower.elector.stop();
  }, 60_000);
});
