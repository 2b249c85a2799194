/**
 * Random desired states and perturbations for the reconcile model tests: a world of 5 to 8
 * nodes in three zones, daemons, chains and blobs asked for, and perturbations applied one at a
 * time (node loss, slow node, daemon crash or crash loop, lost replica, maintenance enter and
 * exit, a hot blob read elsewhere). Each perturbation says how many rounds reconcile gets to make
 * the world equal to the desired state again: the base plus the waits the design imposes.
 */
import fc from 'fast-check';
import type { NodeId } from '../../../src/lib/index.js';
import {
  BLOB_HOT_HEAT,
  CRASH_BACKOFF_MAX_MS,
  CRASH_LOOP_COOLDOWN_MS,
  DOWN_NODE_GRACE_MS,
  MAX_CRASH_TIMES_KEPT,
  RECOVERY_RAMP_UP_MS,
} from '../../../src/reconcile/index.js';
import { ROUND_MS, World, type WorldNode } from './world.js';

/** Rounds any perturbation gets on top of the waits it imposes. */
export const BASE_ROUNDS = 20;
/** The drain deadline the simulated operator gives. */
export const SIM_DRAIN_DEADLINE_MS = 60_000;

export interface WorldShape {
  readonly nodeCount: number;
  readonly daemons: readonly number[];
  readonly chains: readonly { readonly replicas: number; readonly origin: number }[];
  readonly blobs: readonly { readonly replicas: number; readonly holder: number }[];
}

export type Perturbation =
  | { readonly type: 'lose-node' | 'slow-node' | 'enter-maintenance'; readonly pick: number }
  | {
      readonly type: 'crash' | 'crash-loop' | 'lose-replica' | 'exit-maintenance' | 'return-node';
      readonly pick: number;
    }
  | { readonly type: 'hot-blob'; readonly pick: number; readonly reader: number };

const MAX_COUNT = 3;

export const worldShape: fc.Arbitrary<WorldShape> = fc.record({
  nodeCount: fc.integer({ min: 5, max: 8 }),
  daemons: fc.array(fc.integer({ min: 1, max: MAX_COUNT }), { maxLength: 4 }),
  chains: fc.array(fc.record({ replicas: fc.integer({ min: 2, max: MAX_COUNT }), origin: fc.nat(7) }), {
    maxLength: 4,
  }),
  blobs: fc.array(fc.record({ replicas: fc.integer({ min: 2, max: MAX_COUNT }), holder: fc.nat(7) }), {
    maxLength: 3,
  }),
});

export const perturbation: fc.Arbitrary<Perturbation> = fc.oneof(
  fc.record({
    type: fc.constantFrom('lose-node' as const, 'slow-node' as const, 'enter-maintenance' as const),
    pick: fc.nat(7),
  }),
  fc.record({
    type: fc.constantFrom(
      'crash' as const,
      'crash-loop' as const,
      'lose-replica' as const,
      'exit-maintenance' as const,
      'return-node' as const,
    ),
    pick: fc.nat(20),
  }),
  fc.record({ type: fc.constant('hot-blob' as const), pick: fc.nat(3), reader: fc.nat(7) }),
);

export function buildWorld(shape: WorldShape): World {
  const world = new World({
    daemons: shape.daemons.map((members, index) => ({ name: `daemon-${index}`, members })),
    chains: shape.chains.map((chain, index) => ({ name: `chain-${index}`, replicas: chain.replicas })),
    blobs: shape.blobs.map((blob, index) => ({ id: `blob-${index}`, replicas: blob.replicas })),
    maintenance: [],
  });
  const zones = ['zone-a', 'zone-b', 'zone-c'];
  for (let id = 1; id <= shape.nodeCount; id++)
    world.addNode(id, zones[id % zones.length]!, ((id * 37) % 100) / 100);
  for (const [index, chain] of shape.chains.entries()) {
    world.addChain(`chain-${index}`, (chain.origin % shape.nodeCount) + 1);
  }
  for (const [index, blob] of shape.blobs.entries()) {
    world.addBlob(`blob-${index}`, (blob.holder % shape.nodeCount) + 1);
  }
  return world;
}

/** Healthy, not slow, not asked into maintenance: where replacements can go. */
function isGood(world: World, node: WorldNode): boolean {
  const request = world.desired.maintenance.find((entry) => entry.node === node.id);
  return node.health === 'healthy' && !node.slow && request?.target !== 'maintenance';
}

function pickOf<T>(list: readonly T[], pick: number): T | undefined {
  return list.length === 0 ? undefined : list[pick % list.length];
}

/** A good node that can be made bad while every desired count still fits on the good ones left. */
function spareNode(world: World, pick: number): WorldNode | undefined {
  const good = [...world.nodes.values()].filter((node) => isGood(world, node));
  return good.length - 1 >= MAX_COUNT ? pickOf(good, pick) : undefined;
}

/** Applies `change`; answers the rounds reconcile gets to converge, or undefined when it did not apply. */
export function perturb(world: World, change: Perturbation): number | undefined {
  const wallMs = world.wallMs();
  const ups = [...world.nodes.values()].filter((node) => node.health !== 'down');
  switch (change.type) {
    case 'lose-node': {
      const node = spareNode(world, change.pick);
      if (node === undefined) return undefined;
      node.health = 'down';
      node.downSinceWallMs = wallMs;
      node.cutOffDaemons = new Map(node.daemons);
      node.daemons.clear();
      return BASE_ROUNDS + DOWN_NODE_GRACE_MS / ROUND_MS;
    }
    case 'return-node': {
      // A partition heals: the node comes back with what it ran and held when it was cut off.
      const down = [...world.nodes.values()].filter((node) => node.health === 'down');
      const node = pickOf(down, change.pick);
      if (node === undefined) return undefined;
      node.health = 'healthy';
      node.downSinceWallMs = undefined;
      for (const [name, daemon] of node.cutOffDaemons ?? []) node.daemons.set(name, daemon);
      node.cutOffDaemons = undefined;
      return BASE_ROUNDS;
    }
    case 'slow-node': {
      const node = spareNode(world, change.pick);
      if (node === undefined) return undefined;
      node.slow = true;
      return BASE_ROUNDS;
    }
    case 'enter-maintenance': {
      const node = spareNode(world, change.pick);
      if (node === undefined) return undefined;
      world.setMaintenanceRequest({
        node: node.id,
        target: 'maintenance',
        deadlineWallMs: wallMs + SIM_DRAIN_DEADLINE_MS,
      });
      return BASE_ROUNDS + SIM_DRAIN_DEADLINE_MS / ROUND_MS;
    }
    case 'exit-maintenance': {
      const inMaintenance = world.desired.maintenance.filter((request) => request.target === 'maintenance');
      const request = pickOf(inMaintenance, change.pick);
      if (request === undefined) return undefined;
      world.setMaintenanceRequest({ node: request.node, target: 'active' });
      return BASE_ROUNDS + RECOVERY_RAMP_UP_MS / ROUND_MS;
    }
    case 'crash':
    case 'crash-loop': {
      const running = ups.flatMap((node) =>
        [...node.daemons]
          .filter(([, daemon]) => daemon.running)
          .map(([name, daemon]) => ({ node: node.id, name, daemon })),
      );
      const victim = pickOf(running, change.pick);
      if (victim === undefined) return undefined;
      victim.daemon.running = false;
      if (change.type === 'crash') {
        victim.daemon.crashTimesWallMs = [...victim.daemon.crashTimesWallMs, wallMs].slice(
          -MAX_CRASH_TIMES_KEPT,
        );
        return BASE_ROUNDS + CRASH_BACKOFF_MAX_MS / ROUND_MS;
      }
      victim.daemon.crashTimesWallMs = [4_000, 3_000, 2_000, 1_000, 0].map((ago) => wallMs - ago);
      return BASE_ROUNDS + CRASH_LOOP_COOLDOWN_MS / ROUND_MS;
    }
    case 'lose-replica': {
      const held = ups.flatMap((node) =>
        [...node.replicas.keys()]
          .filter((chain) => world.chains.get(chain)?.leader !== node.id)
          .map((chain) => ({ node, chain })),
      );
      const lost = pickOf(held, change.pick);
      if (lost === undefined) return undefined;
      lost.node.replicas.delete(lost.chain);
      return BASE_ROUNDS;
    }
    case 'hot-blob': {
      const blob = pickOf([...world.blobs.values()], change.pick);
      if (blob === undefined) return undefined;
      blob.heat = 2 * BLOB_HOT_HEAT;
      blob.hottestReader = ((change.reader % world.nodes.size) + 1) as NodeId;
      return BASE_ROUNDS;
    }
  }
}
