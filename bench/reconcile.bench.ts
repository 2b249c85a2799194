/**
 * One reconcile pass (pure function) over a mesh of 1,000 nodes, 10,000 daemons of 2 members and
 * 10,000 chains of 3 replicas (plus 1,000 blobs of 2 copies and 16 RTT rows per node): when
 * nothing is to do, after one node was lost past the grace period, and from a cold start where
 * every member and replica is still to place. Then, on three processes, the time from a node's
 * loss to all its daemons serving elsewhere (reconcile-node-loss.ts).
 */
import { performance } from 'node:perf_hooks';
import {
  ACTIVE,
  ActionIds,
  type DesiredState,
  DOWN_NODE_GRACE_MS,
  type ObservedNode,
  type ObservedState,
  type ReconcileTime,
  reconcile,
} from '../src/reconcile/index.js';
import { type BenchSuite, percentile } from './harness.js';
import { measureNodeLoss } from './reconcile-node-loss.js';

const NODES = 1_000;
const DAEMONS = 10_000;
const DAEMON_MEMBERS = 2;
const CHAINS = 10_000;
const CHAIN_REPLICAS = 3;
const BLOBS = 1_000;
const BLOB_REPLICAS = 2;
const ZONES = 10;
const RTT_PEERS_PER_NODE = 16;
const STEADY_RUNS = 21;
const COLD_RUNS = 7;
const TIME: ReconcileTime = { monotonicMs: 1_000_000, wallMs: 1_700_000_000_000 };

const nodeAt = (index: number) => (index % NODES) + 1;

interface Mesh {
  readonly observed: ObservedState;
  readonly desired: DesiredState;
}

/** The mesh with every member and replica in place (`placed`), or only each chain's first replica. */
export function meshOf(placed: boolean): Mesh {
  const daemons = new Map<number, { name: string; running: boolean; crashTimesWallMs: number[] }[]>();
  const replicas = new Map<number, { chain: string; lagRecords: number }[]>();
  const push = <T>(map: Map<number, T[]>, node: number, value: T) => {
    const list = map.get(node) ?? [];
    list.push(value);
    map.set(node, list);
  };
  const chains = [];
  for (let index = 0; index < CHAINS; index++) {
    const name = `chain-${index}`;
    const members = placed
      ? Array.from({ length: CHAIN_REPLICAS }, (_, replica) => nodeAt(index * CHAIN_REPLICAS + replica))
      : [nodeAt(index)];
    for (const member of members) push(replicas, member, { chain: name, lagRecords: 0 });
    chains.push({ name, members, leader: members[0]! });
  }
  if (placed) {
    for (let index = 0; index < DAEMONS; index++) {
      for (let member = 0; member < DAEMON_MEMBERS; member++) {
        push(daemons, nodeAt(index * DAEMON_MEMBERS + member), {
          name: `daemon-${index}`,
          running: true,
          crashTimesWallMs: [],
        });
      }
    }
  }
  const nodes: ObservedNode[] = Array.from({ length: NODES }, (_, index) => ({
    id: index + 1,
    health: 'healthy',
    zone: `zone-${index % ZONES}`,
    capacity: { daemons: 100, chains: 100 },
    load: (index % 7) / 10,
    maintenance: ACTIVE,
    daemons: daemons.get(index + 1) ?? [],
    replicas: replicas.get(index + 1) ?? [],
  }));
  const rtt = [];
  for (let from = 1; from <= NODES; from++) {
    for (let step = 1; step <= RTT_PEERS_PER_NODE; step++)
      rtt.push({ from, to: nodeAt(from + step - 1), rttMs: 1 + (step % 3) });
  }
  const blobs = Array.from({ length: BLOBS }, (_, index) => ({
    id: `blob-${index}`,
    holders: Array.from({ length: BLOB_REPLICAS }, (_, copy) => nodeAt(index * 7 + copy)),
    heat: 0,
  }));
  return {
    observed: { nodes, chains, blobs, rtt, avoid: [], pending: [] },
    desired: {
      daemons: Array.from({ length: DAEMONS }, (_, index) => ({
        name: `daemon-${index}`,
        members: DAEMON_MEMBERS,
      })),
      chains: chains.map((chain) => ({ name: chain.name, replicas: CHAIN_REPLICAS })),
      blobs: blobs.map((blob) => ({ id: blob.id, replicas: BLOB_REPLICAS })),
      maintenance: [],
    },
  };
}

/** `mesh` with node 17 down past the grace period (its daemons gone, its copies to replace). */
function withLostNode(mesh: Mesh): Mesh {
  const lost = 17;
  const nodes = mesh.observed.nodes.map((node) =>
    node.id === lost
      ? { ...node, health: 'down' as const, downSinceWallMs: TIME.wallMs - DOWN_NODE_GRACE_MS, daemons: [] }
      : node,
  );
  return { ...mesh, observed: { ...mesh.observed, nodes } };
}

export const suite: BenchSuite = {
  name: 'reconcile',
  async run(context) {
    const scenarios: [string, Mesh, number][] = [
      ['steady state (nothing to do)', meshOf(true), STEADY_RUNS],
      ['one node lost', withLostNode(meshOf(true)), STEADY_RUNS],
      ['cold start (everything to place)', meshOf(false), COLD_RUNS],
    ];
    for (const [label, mesh, runs] of scenarios) {
      let actions = 0;
      const wallMs: number[] = [];
      const cpuMs: number[] = [];
      for (let run = 0; run < runs; run++) {
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        actions = reconcile(mesh.observed, mesh.desired, TIME, new ActionIds()).actions.length;
        wallMs.push(performance.now() - started);
        const cpu = process.cpuUsage(cpuBefore);
        cpuMs.push((cpu.user + cpu.system) / 1_000);
      }
      // CPU time (this process, GC threads included) is what a pass costs a node; wall time also
      // counts waiting for a core on a shared machine.
      for (const [kind, values] of [
        ['wall', wallMs],
        ['CPU', cpuMs],
      ] as const) {
        const sorted = [...values].sort((a, b) => a - b);
        context.record({
          metric: `pass ${kind} time, 1,000 nodes / 10,000 daemons / 10,000 chains: ${label}`,
          median: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          unit: 'ms',
          samples: runs,
        });
      }
      context.record({
        metric: `actions emitted: ${label}`,
        median: actions,
        unit: 'actions',
        samples: runs,
      });
    }
    await measureNodeLoss(context);
  },
};
