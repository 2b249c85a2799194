import { describe, expect, it } from 'vitest';
import {
  encodeProximityMessage,
  MAX_PROXIMITY_PEERS,
  PROXIMITY_HEALTH_DEADLINE_MS,
  PROXIMITY_PING_INTERVAL_MS,
  ProximityGraph,
  RTT_SMOOTHING_WEIGHT,
} from '../../../src/chains/index.js';
import { ManualClock, type NodeId } from '../../../src/lib/index.js';
import { ProximityLinks } from './proximity-links.js';

/** Nodes each running a graph that pings all the others, on one manual clock. */
function mesh(nodes: readonly NodeId[], latencies: readonly (readonly [NodeId, NodeId, number])[] = []) {
  const clock = new ManualClock(0);
  const links = new ProximityLinks(clock, 5);
  for (const [from, to, latencyMs] of latencies) links.setLatency(from, to, latencyMs);
  const graphs = new Map<NodeId, ProximityGraph>();
  const flips: string[] = [];
  for (const node of nodes) {
    const graph = new ProximityGraph({ link: links.link(node), clock });
    graph.setPeers(nodes.filter((other) => other !== node));
    graph.onHealthChange((peer, healthy) =>
      flips.push(`${node} sees ${peer} ${healthy ? 'healthy' : 'unhealthy'}`),
    );
    graphs.set(node, graph);
  }
  for (const graph of graphs.values()) graph.start();
  const of = (node: NodeId) => graphs.get(node) as ProximityGraph;
  return { clock, links, of, flips };
}

describe('ProximityGraph', () => {
  it('measures the round trip to each peer and judges it healthy once it answers', () => {
    const { clock, of } = mesh(
      [1, 2, 3],
      [
        [1, 3, 20],
        [3, 1, 20],
      ],
    );
    expect(of(1).row().get(2)).toEqual({ healthy: false });
    // The first pong proves the connection; the ping sent at once then measures the path.
    clock.advance(15);
    expect(of(1).row().get(2)).toEqual({ healthy: true });
    clock.advance(85);
    expect(of(1).row()).toEqual(
      new Map([
        [2, { rttMs: 10, healthy: true }],
        [3, { rttMs: 40, healthy: true }],
      ]),
    );
    expect(of(3).row().get(2)).toEqual({ rttMs: 10, healthy: true });
  });

  it('smooths the RTT: each new sample moves it by RTT_SMOOTHING_WEIGHT of the difference', () => {
    const { clock, links, of } = mesh([1, 2]);
    clock.advance(50);
    expect(of(1).row().get(2)?.rttMs).toBe(10);
    links.setLatency(1, 2, 25);
    links.setLatency(2, 1, 25);
    clock.advance(PROXIMITY_PING_INTERVAL_MS);
    expect(of(1).row().get(2)?.rttMs).toBe(10 + RTT_SMOOTHING_WEIGHT * (50 - 10));
    clock.advance(PROXIMITY_PING_INTERVAL_MS * 30);
    expect(of(1).row().get(2)?.rttMs).toBeCloseTo(50, 1);
  });

  it('takes no RTT sample from a pong later than the health deadline, though it proves the peer up', () => {
    const { clock, links, of } = mesh([1, 2]);
    clock.advance(50);
    expect(of(1).row().get(2)).toEqual({ rttMs: 10, healthy: true });
    // Pings from 1 wait 4 s (as in a queue while a connection is made): their pongs come late.
    links.setLatency(1, 2, PROXIMITY_HEALTH_DEADLINE_MS + 1_000);
    clock.advance(PROXIMITY_HEALTH_DEADLINE_MS + PROXIMITY_PING_INTERVAL_MS);
    expect(of(1).row().get(2)).toEqual({ rttMs: 10, healthy: false });
    clock.advance(PROXIMITY_HEALTH_DEADLINE_MS);
    expect(of(1).pongsReceived).toBeGreaterThan(1);
    expect(of(1).row().get(2)).toEqual({ rttMs: 10, healthy: true });
  });

  it('takes no RTT sample from a ping that waited for the connection to be made', () => {
    // Node 1's first ping waits 1.5 s (as in a queue while node 2 starts), later ones do not.
    const { clock, links, of } = mesh([1, 2], [[1, 2, 1_500]]);
    clock.advance(1);
    links.setLatency(1, 2, 5);
    // The ping at 1 s is answered first and measures; the one from 0 comes back at 1.5 s.
    clock.advance(1_599);
    expect(of(1).pongsReceived).toBe(3);
    expect(of(1).row().get(2)).toEqual({ rttMs: 10, healthy: true });
  });

  it('sends no ping over a connection the transport reports lost, and pings again once it is back', () => {
    const { clock, links, of } = mesh([1, 2]);
    clock.advance(50);
    links.down.add('1>2');
    const sent = of(1).pingsSent;
    clock.advance(PROXIMITY_PING_INTERVAL_MS * 3);
    expect(of(1).pingsSent).toBe(sent);
    links.down.delete('1>2');
    clock.advance(PROXIMITY_PING_INTERVAL_MS);
    expect(of(1).pingsSent).toBe(sent + 1);
    expect(of(1).row().get(2)).toEqual({ rttMs: 10, healthy: true });
  });

  it('pings every peer once per interval', () => {
    const { clock, links } = mesh([1, 2, 3]);
    clock.advance(PROXIMITY_PING_INTERVAL_MS * 10 - 1);
    // A ping at 0, one at the first answer (it measures) and one per interval after, plus the
    // pongs answering the other's pings.
    expect(links.sent.get('1>2')).toBe(22);
    expect(links.sent.get('1>3')).toBe(22);
  });

  it('a peer that stops answering turns unhealthy past the health deadline, and healthy at its next pong', () => {
    const { clock, links, of, flips } = mesh([1, 2]);
    clock.advance(50);
    flips.length = 0;
    links.cutBetween(1, 2);
    clock.advance(PROXIMITY_HEALTH_DEADLINE_MS - 100);
    expect(of(1).row().get(2)?.healthy).toBe(true);
    clock.advance(PROXIMITY_PING_INTERVAL_MS + 100);
    expect(of(1).row().get(2)).toEqual({ rttMs: 10, healthy: false });
    expect(flips).toEqual(['1 sees 2 unhealthy', '2 sees 1 unhealthy']);
    links.heal(1, 2);
    clock.advance(PROXIMITY_PING_INTERVAL_MS);
    expect(of(1).row().get(2)?.healthy).toBe(true);
    expect(flips.slice(2).sort()).toEqual(['1 sees 2 healthy', '2 sees 1 healthy']);
  });

  it('a lost connection marks the peer unhealthy at once; the next pong clears it', () => {
    const { clock, links, of, flips } = mesh([1, 2]);
    clock.advance(50);
    flips.length = 0;
    links.loseConnection(1, 2);
    expect(of(1).row().get(2)?.healthy).toBe(false);
    expect(flips).toEqual(['1 sees 2 unhealthy', '2 sees 1 unhealthy']);
    clock.advance(PROXIMITY_PING_INTERVAL_MS + 10);
    expect(of(1).row().get(2)?.healthy).toBe(true);
    expect(flips).toHaveLength(4);
  });

  it('ignores what is not a ping or pong, pongs from peers it does not ping, and pongs from the future', () => {
    const { clock, links, of } = mesh([1, 2]);
    clock.advance(50);
    const before = links.sent.get('1>2');
    links.inject(2, 1, new Uint8Array([9, 9, 9]));
    links.inject(2, 1, new Uint8Array(9));
    links.inject(7, 1, encodeProximityMessage({ kind: 'pong', sentAtMs: 0 }));
    links.inject(2, 1, encodeProximityMessage({ kind: 'pong', sentAtMs: clock.nowMs() + 1_000 }));
    expect(links.sent.get('1>2')).toBe(before);
    expect(of(1).row()).toEqual(new Map([[2, { rttMs: 10, healthy: true }]]));
    expect(of(1).pongsReceived).toBe(2);
  });

  it('pings a new peer at once and forgets one that leaves the list', () => {
    const { clock, links, of } = mesh([1, 2, 3]);
    of(1).setPeers([2]);
    clock.advance(50);
    expect([...of(1).row().keys()]).toEqual([2]);
    const sentBefore = links.sent.get('1>3') ?? 0;
    of(1).setPeers([2, 3]);
    expect(links.sent.get('1>3')).toBe(sentBefore + 1);
    clock.advance(20);
    expect(of(1).row().get(3)).toEqual({ rttMs: 10, healthy: true });
  });

  it('refuses more peers than it may ping, and bad timings', () => {
    const { of } = mesh([1]);
    const tooMany = Array.from({ length: MAX_PROXIMITY_PEERS + 1 }, (_, index) => index + 2);
    expect(() => of(1).setPeers(tooMany)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const clock = new ManualClock(0);
    const link = new ProximityLinks(clock).link(1);
    expect(() => new ProximityGraph({ link, clock, pingIntervalMs: 1_000, healthDeadlineMs: 500 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('stops pinging when stopped', () => {
    const { clock, links, of } = mesh([1, 2]);
    clock.advance(50);
    of(1).stop();
    const before = links.sent.get('1>2');
    clock.advance(PROXIMITY_PING_INTERVAL_MS * 5);
    // Only the pongs answering 2's pings.
    expect(links.sent.get('1>2')).toBe((before ?? 0) + 5);
  });
});
