import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DaemonHost, memberIdentity, StandbyGroup } from '../../../src/compute/index.js';
import { isMeshError, ManualClock } from '../../../src/lib/index.js';
import { eventOf, LedgerDaemon, ledgerOf, ledgerRuntime, seedOf } from '../../unit/compute/fixtures.js';

type Action =
  | { readonly type: 'deliver'; readonly count: number }
  | { readonly type: 'sync' }
  | { readonly type: 'fail-node'; readonly member: number }
  | { readonly type: 'recover-node'; readonly member: number }
  | { readonly type: 'promote' }
  | { readonly type: 'break-next-restore'; readonly member: number };

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ type: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 6 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ type: 'sync' as const }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('fail-node' as const), member: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('recover-node' as const), member: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'promote' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('break-next-restore' as const), member: fc.nat(3) }),
  },
);

/** Errors the group may answer with by design; anything else fails the test. */
const EXPECTED_REFUSALS = new Set([
  'GROUP_NO_STANDBY',
  'GROUP_ACTIVE_UNAVAILABLE',
  'GROUP_MEMBER_NOT_ACTIVE',
  'REPLAY_BUFFER_FULL',
]);

function expectRefusal(error: unknown): void {
  if (!isMeshError(error) || !EXPECTED_REFUSALS.has(error.code)) throw error;
}

describe('StandbyGroup model', () => {
  it('keeps the active equal to a never-failed daemon fed the accepted events: nothing lost, nothing twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 12 }),
        fc.constantFrom('force-sync' as const, 'reject' as const),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }),
        fc.array(actionArbitrary, { minLength: 1, maxLength: 60 }),
        async (memberCount, capacity, policy, outputPattern, actions) => {
          const outputsFor = (id: number) => outputPattern[id % outputPattern.length]!;
          const { runtime } = ledgerRuntime(outputsFor);
          const group = StandbyGroup.spawn(runtime, 'ledger', {
            memberCount,
            groupSeed: seedOf(11),
            replayBufferCapacityEvents: capacity,
            onReplayBufferFull: policy,
          });
          const referenceDaemon = new LedgerDaemon(outputsFor);
          const reference = new DaemonHost(memberIdentity(seedOf(12), 0), referenceDaemon, new ManualClock());
          let nextId = 1;

          for (const action of actions) {
            const node = (member: number) => (member % memberCount) + 1;
            try {
              switch (action.type) {
                case 'deliver':
                  for (let index = 0; index < action.count; index++) {
                    const event = eventOf(nextId++);
                    group.deliver(event);
                    // Only an accepted event reaches the reference.
                    reference.deliver(event);
                  }
                  break;
                case 'sync':
                  group.syncStandbys();
                  break;
                case 'fail-node':
                  await group.onNodeFailure(node(action.member));
                  break;
                case 'recover-node':
                  group.onNodeRecovery(node(action.member));
                  break;
                case 'promote':
                  await group.promote();
                  break;
                case 'break-next-restore': {
                  const origin = group.listMembers()[action.member % memberCount]!.originHash;
                  if (runtime.has(origin)) ledgerOf(runtime, origin).failNextRestore = true;
                  break;
                }
              }
            } catch (error) {
              expectRefusal(error);
            }
            expect(group.bufferedEventCount).toBeLessThanOrEqual(capacity);
            if (group.health().status !== 'dead') {
              const active = ledgerOf(runtime, group.activeOrigin());
              expect(active.applied).toEqual(referenceDaemon.applied);
              expect(runtime.host(group.activeOrigin()).inboundPosition).toBe(reference.inboundPosition);
            }
          }
          group.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
