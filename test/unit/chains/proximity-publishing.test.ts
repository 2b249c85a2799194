import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeProximityRow,
  PROXIMITY_MIN_PUBLISH_INTERVAL_MS,
  PROXIMITY_PUBLISH_INTERVAL_MS,
  PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS,
  ProximityFollower,
  ProximityGraph,
  ProximityPublisher,
} from '../../../src/chains/index.js';
import { type ControlPlane, openControlPlane, proximityKey } from '../../../src/control/index.js';
import { ManualClock, type NodeId, SeededRandom } from '../../../src/lib/index.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { ProximityLinks } from './proximity-links.js';

const STEP_MS = 10;
const encoder = new TextEncoder();

/** Nodes pinging each other and publishing their rows to one in-process control plane. */
class Bed {
  readonly clock = new ManualClock(0);
  readonly backend = new LocalKvBackend({ clock: this.clock });
  readonly links = new ProximityLinks(this.clock, 5);
  readonly graphs = new Map<NodeId, ProximityGraph>();
  readonly publishers = new Map<NodeId, ProximityPublisher>();
  readonly leases = new Map<NodeId, number>();
  /** When each node's publisher started a write, by the clock. */
  readonly writeTimes = new Map<NodeId, number[]>();
  private readonly planes: ControlPlane[] = [];
  private readonly closers: (() => Promise<void>)[] = [];

  async plane(): Promise<ControlPlane> {
    const plane = await openControlPlane({
      kind: 'in-process',
      backend: this.backend,
      clock: this.clock,
      random: new SeededRandom(this.planes.length + 1),
    });
    this.planes.push(plane);
    return plane;
  }

  /** Starts pinging `peers` and publishing; `registered` false leaves it without a lease. */
  async node(self: NodeId, peers: readonly NodeId[], registered = true): Promise<ProximityPublisher> {
    const plane = await this.plane();
    if (registered) this.leases.set(self, (await plane.grantLease(60)).id);
    const graph = new ProximityGraph({ link: this.links.link(self), clock: this.clock });
    graph.setPeers(peers);
    graph.start();
    const times: number[] = [];
    this.writeTimes.set(self, times);
    const recording: ControlPlane = Object.create(plane);
    recording.put = (...args) => {
      times.push(this.clock.nowMs());
      return plane.put(...args);
    };
    const publisher = new ProximityPublisher({
      plane: recording,
      self,
      graph,
      leaseId: () => this.leases.get(self),
      clock: this.clock,
    });
    publisher.start();
    this.graphs.set(self, graph);
    this.publishers.set(self, publisher);
    this.closers.push(async () => {
      graph.stop();
      await publisher.stop();
    });
    return publisher;
  }

  async follower(): Promise<ProximityFollower> {
    const follower = new ProximityFollower({ plane: await this.plane(), clock: this.clock });
    this.closers.push(() => follower.stop());
    await follower.whenLoaded();
    return follower;
  }

  /** Moves the clock in small steps, letting the control plane's answers arrive between them. */
  async advance(totalMs: number): Promise<void> {
    for (let elapsed = 0; elapsed < totalMs; elapsed += STEP_MS) {
      this.clock.advance(STEP_MS);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
    for (const plane of this.planes) await plane.close();
    this.backend.close();
  }
}

let bed: Bed;
afterEach(async () => {
  await bed.close();
});

describe('ProximityPublisher', () => {
  it("writes the node's row under its lease, which takes the row with it", async () => {
    bed = new Bed();
    await bed.node(1, [2]);
    await bed.node(2, [1]);
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS + 100);
    const plane = await bed.plane();
    const entry = await plane.get(proximityKey(1));
    expect(entry?.lease).toBe(bed.leases.get(1));
    const row = decodeProximityRow(proximityKey(1), entry?.value ?? new Uint8Array());
    expect(row.node).toBe(1);
    expect(row.peers).toEqual(new Map([[2, { rttMs: 10, healthy: true }]]));
    await plane.revokeLease(bed.leases.get(1) ?? 0);
    expect(await plane.get(proximityKey(1))).toBeUndefined();
  });

  it('rewrites the row every publish interval while nothing changes', async () => {
    bed = new Bed();
    const publisher = await bed.node(1, []);
    await bed.advance(PROXIMITY_PUBLISH_INTERVAL_MS * 4 + 100);
    // At 0, then once per interval.
    expect(publisher.published).toBe(5);
    expect(await (await bed.plane()).get(proximityKey(1))).toMatchObject({ version: 5 });
  });

  it('writes sooner when a peer changes health, but never twice within the minimum interval', async () => {
    bed = new Bed();
    const publisher = await bed.node(1, [2, 3]);
    await bed.node(2, [1]);
    await bed.node(3, [1]);
    // The first pongs flip 2 and 3 to healthy: one extra write, a minimum interval after the first.
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS + 100);
    expect(publisher.published).toBe(2);
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS);
    expect(publisher.published).toBe(2);
    // Flips in quick succession: two losses, then the pongs that clear them.
    const lossAtMs = bed.clock.nowMs();
    bed.links.loseConnection(1, 2);
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS / 4);
    bed.links.loseConnection(1, 3);
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS / 4);
    expect(publisher.published).toBe(3);
    const rowAfterLoss = decodeProximityRow(
      proximityKey(1),
      (await (await bed.plane()).get(proximityKey(1)))?.value ?? new Uint8Array(),
    );
    expect(rowAfterLoss.peers.get(2)?.healthy).toBe(false);
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS * 3);
    const times = bed.writeTimes.get(1) ?? [];
    const afterLoss = times.filter((atMs) => atMs >= lossAtMs);
    expect(afterLoss[0]).toBeLessThanOrEqual(lossAtMs + PROXIMITY_MIN_PUBLISH_INTERVAL_MS);
    // The flips back to healthy were written too, well before the next heartbeat write.
    expect(afterLoss.length).toBeGreaterThanOrEqual(2);
    expect(afterLoss[1]).toBeLessThan(lossAtMs + PROXIMITY_PUBLISH_INTERVAL_MS);
    for (let index = 1; index < times.length; index++) {
      expect((times[index] ?? 0) - (times[index - 1] ?? 0)).toBeGreaterThanOrEqual(
        PROXIMITY_MIN_PUBLISH_INTERVAL_MS,
      );
    }
  });

  it('writes nothing until the node has a lease, then soon after', async () => {
    bed = new Bed();
    const publisher = await bed.node(1, [], false);
    await bed.advance(PROXIMITY_PUBLISH_INTERVAL_MS);
    expect(publisher.published).toBe(0);
    expect(await (await bed.plane()).get(proximityKey(1))).toBeUndefined();
    bed.leases.set(1, (await (await bed.plane()).grantLease(60)).id);
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS + 100);
    expect(publisher.published).toBe(1);
  });
});

describe('ProximityFollower', () => {
  it('answers every row as the matrix, fresh while it is rewritten, stale once its node stops', async () => {
    bed = new Bed();
    await bed.node(1, [2]);
    await bed.node(2, [1]);
    const follower = await bed.follower();
    await bed.advance(PROXIMITY_MIN_PUBLISH_INTERVAL_MS + 100);
    const matrix = follower.matrix();
    expect([...matrix.rows.keys()].sort()).toEqual([1, 2]);
    expect(matrix.rows.get(1)).toMatchObject({ node: 1, fresh: true });
    expect(matrix.rows.get(2)?.peers.get(1)).toEqual({ rttMs: 10, healthy: true });
    // Node 2 stops publishing (paused, or cut off from the control plane) but keeps its lease.
    await bed.publishers.get(2)?.stop();
    const staleAfterMs = PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS * PROXIMITY_PUBLISH_INTERVAL_MS;
    await bed.advance(staleAfterMs - PROXIMITY_PUBLISH_INTERVAL_MS);
    expect(follower.matrix().rows.get(2)?.fresh).toBe(true);
    await bed.advance(PROXIMITY_PUBLISH_INTERVAL_MS + 100);
    expect(follower.matrix().rows.get(2)?.fresh).toBe(false);
    expect(follower.matrix().rows.get(1)?.fresh).toBe(true);
  });

  it('drops a row whose lease ended, and skips rows that do not decode', async () => {
    bed = new Bed();
    await bed.node(1, []);
    const plane = await bed.plane();
    await plane.put(proximityKey(8), encoder.encode('not json'));
    await plane.put(
      proximityKey(9),
      encoder.encode(JSON.stringify({ node: 4, publishedAtMs: 0, peers: [] })),
    );
    const follower = await bed.follower();
    await bed.advance(100);
    expect([...follower.matrix().rows.keys()]).toEqual([1]);
    expect(follower.badRows).toBe(2);
    await plane.revokeLease(bed.leases.get(1) ?? 0);
    await bed.advance(100);
    expect(follower.matrix().rows.size).toBe(0);
  });
});
