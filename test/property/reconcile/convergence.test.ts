import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActionIds, reconcile } from '../../../src/reconcile/index.js';
import { differences, undonePairs } from '../../support/reconcile/convergence.js';
import {
  BASE_ROUNDS,
  buildWorld,
  perturb,
  perturbation,
  worldShape,
} from '../../support/reconcile/scenario.js';
import type { World } from '../../support/reconcile/world.js';

/** Rounds after convergence in which reconcile must stay quiet. */
const QUIET_ROUNDS = 5;

/**
 * Runs rounds until the world equals its desired state (at most `bound`), then checks that no
 * action of the phase undid an earlier one and that reconcile stays quiet afterwards (renewing
 * an expired avoid entry of a node still slow is the only action allowed).
 */
function convergeWithin(world: World, bound: number, phase: string): void {
  const firstAction = world.emitted.length;
  let left = differences(world);
  for (let round = 0; round < bound && left.length > 0; round++) {
    world.round();
    left = differences(world);
  }
  expect(
    left,
    `${phase}: not converged within ${bound} rounds (blocked: ${JSON.stringify(world.lastResult.blocked)})`,
  ).toEqual([]);
  for (let round = 0; round < QUIET_ROUNDS; round++) {
    const { actions } = world.round();
    expect(
      actions.filter((pending) => pending.action.kind !== 'MarkAvoid').map((pending) => pending.action),
      `${phase}: actions after convergence`,
    ).toEqual([]);
    expect(differences(world), `${phase}: diverged while quiet`).toEqual([]);
  }
  expect(undonePairs(world.emitted.slice(firstAction)), `${phase}: flapping`).toEqual([]);
  expect(world.safetyViolations, `${phase}: served below what was asked for`).toEqual([]);
}

describe('reconcile model', () => {
  it('reaches the desired state within a bounded number of rounds after each perturbation, never flaps, and never serves less than asked for on the way', () => {
    fc.assert(
      fc.property(worldShape, fc.array(perturbation, { minLength: 1, maxLength: 6 }), (shape, changes) => {
        const world = buildWorld(shape);
        convergeWithin(world, BASE_ROUNDS, 'start');
        for (const change of changes) {
          const bound = perturb(world, change);
          if (bound !== undefined) convergeWithin(world, bound, JSON.stringify(change));
        }
      }),
      {
        numRuns: 100,
        examples: [
          // Three of seven nodes slow, then a blob holder lost: every healthy node's median RTT
          // was slow too, so all were avoided and the lost copy had nowhere to go.
          [
            { nodeCount: 7, daemons: [], chains: [], blobs: [{ replicas: 2, holder: 0 }] },
            [
              { type: 'slow-node', pick: 0 },
              { type: 'slow-node', pick: 2 },
              { type: 'slow-node', pick: 0 },
              { type: 'lose-node', pick: 0 },
            ],
          ],
        ],
      },
    );
  });

  it('does some work in every run it checks: the start phase places every daemon, chain replica and blob copy', () => {
    fc.assert(
      fc.property(worldShape, (shape) => {
        const world = buildWorld(shape);
        convergeWithin(world, BASE_ROUNDS, 'start');
        const kinds = world.emitted.map((entry) => entry.pending.action.kind);
        const starts = kinds.filter((kind) => kind === 'StartDaemon').length;
        expect(starts).toBe(shape.daemons.reduce((sum, members) => sum + members, 0));
        const placements = kinds.filter((kind) => kind === 'RequestPlacement').length;
        expect(placements).toBe(shape.chains.reduce((sum, chain) => sum + chain.replicas - 1, 0));
      }),
      { numRuns: 30 },
    );
  });

  it('is deterministic and counts pending actions as done: the same input gives the same actions, and with them pending nothing more', () => {
    fc.assert(
      fc.property(
        worldShape,
        fc.array(perturbation, { maxLength: 3 }),
        fc.nat(5),
        (shape, changes, rounds) => {
          const world = buildWorld(shape);
          for (let round = 0; round < rounds; round++) world.round();
          for (const change of changes) perturb(world, change);
          const observed = world.observe();
          const first = reconcile(observed, world.desired, world.time(), new ActionIds(1_000_000));
          const again = reconcile(observed, world.desired, world.time(), new ActionIds(1_000_000));
          expect(again).toEqual(first);
          const withPending = { ...observed, pending: [...observed.pending, ...first.actions] };
          expect(
            reconcile(withPending, world.desired, world.time(), new ActionIds(2_000_000)).actions,
          ).toEqual([]);
          const ids = first.actions.map((pending) => pending.id);
          expect(ids).toEqual(ids.map((_, index) => 1_000_000 + index));
        },
      ),
      { numRuns: 300 },
    );
  });
});
