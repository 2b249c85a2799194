import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StandbyGroup } from '../../../src/compute/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { asyncLedgerRuntime, eventOf, ledgerOf, seedOf } from '../../unit/compute/fixtures.js';

/**
 * The asynchronous path of StandbyGroup against its contract: every daemon answers after a
 * delay whose order fast-check's scheduler picks, while deliveries, syncs, node failures,
 * recoveries, crashes and promotions interleave. Whenever the group is quiet and alive, the
 * active has applied exactly the acknowledged events, once each, in delivery order, and no
 * refused one. On failure fast-check prints the seed, the path and the task order.
 */

type Action =
  | { readonly type: 'deliver'; readonly count: number }
  | { readonly type: 'run-tasks'; readonly count: number }
  | { readonly type: 'settle' }
  | { readonly type: 'sync' }
  | { readonly type: 'fail-node'; readonly member: number }
  | { readonly type: 'recover-node'; readonly member: number }
  | { readonly type: 'promote' }
  | { readonly type: 'crash-active-on-next' }
  | { readonly type: 'break-next-restore'; readonly member: number };

const member = fc.nat(3);
const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ type: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ type: fc.constant('run-tasks' as const), count: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ type: 'settle' as const }) },
  { weight: 2, arbitrary: fc.constant({ type: 'sync' as const }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('fail-node' as const), member }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('recover-node' as const), member }) },
  { weight: 1, arbitrary: fc.constant({ type: 'promote' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'crash-active-on-next' as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('break-next-restore' as const), member }) },
);

/** Errors the group answers with by design; any other error fails the property. */
const EXPECTED_REFUSALS = new Set([
  'GROUP_BUSY',
  'GROUP_NO_STANDBY',
  'GROUP_ACTIVE_UNAVAILABLE',
  'REPLAY_BUFFER_FULL',
  'DAEMON_BUSY',
  'DAEMON_REMOVED',
  'DAEMON_CRASHED',
]);

function refusalCode(error: unknown): string {
  if (!isMeshError(error) || !EXPECTED_REFUSALS.has(error.code)) throw error;
  return error.code;
}

interface Delivery {
  readonly id: number;
  /** Inbound position when acknowledged, a refusal code when refused, undefined while pending. */
  outcome: number | string | undefined;
}

const RUNS = 120;
const totals = { acknowledged: 0, removed: 0, promotions: 0, busy: 0, checks: 0 };

describe('StandbyGroup model with asynchronous daemons', () => {
  it('applies every acknowledged event exactly once, in delivery order, and no refused one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 10 }),
        fc.constantFrom('force-sync' as const, 'reject' as const),
        fc.array(actionArbitrary, { minLength: 1, maxLength: 50 }),
        async (scheduler, memberCount, capacity, policy, actions) => {
          const { runtime } = asyncLedgerRuntime(() => scheduler.schedule(Promise.resolve(), 'process'));
          const group = StandbyGroup.spawn(runtime, 'ledger', {
            memberCount,
            groupSeed: seedOf(21),
            replayBufferCapacityEvents: capacity,
            onReplayBufferFull: policy,
          });
          const deliveries: Delivery[] = [];
          const operations: Promise<unknown>[] = [];
          let nextId = 1;
          const node = (index: number) => (index % memberCount) + 1;
          const watch = (operation: Promise<unknown>) => {
            operations.push(
              operation.catch((error: unknown) => {
                if (refusalCode(error) === 'GROUP_BUSY') totals.busy++;
              }),
            );
          };

          const deliver = () => {
            const delivery: Delivery = { id: nextId++, outcome: undefined };
            deliveries.push(delivery);
            let result: number | Promise<number>;
            try {
              result = group.deliver(eventOf(delivery.id));
            } catch (error) {
              delivery.outcome = refusalCode(error);
              return;
            }
            if (typeof result === 'number') {
              delivery.outcome = result;
              return;
            }
            operations.push(
              result.then(
                (position) => {
                  delivery.outcome = position;
                },
                (error: unknown) => {
                  delivery.outcome = refusalCode(error);
                },
              ),
            );
          };

          /** With nothing left to run, every call has answered and the active matches the acknowledgements. */
          const settleAndCheck = async () => {
            await scheduler.waitIdle();
            await Promise.all(operations);
            expect(deliveries.filter((delivery) => delivery.outcome === undefined)).toEqual([]);
            if (group.health().status === 'dead') return;
            const acknowledged = deliveries.filter((delivery) => typeof delivery.outcome === 'number');
            expect(ledgerOf(runtime, group.activeOrigin()).applied).toEqual(acknowledged.map(({ id }) => id));
            expect(acknowledged.map(({ outcome }) => outcome)).toEqual(
              acknowledged.map((_, index) => index + 1),
            );
            expect(group.bufferedEventCount).toBeLessThanOrEqual(capacity);
            totals.checks++;
          };

          for (const action of actions) {
            try {
              switch (action.type) {
                case 'deliver':
                  for (let index = 0; index < action.count; index++) deliver();
                  break;
                case 'run-tasks':
                  await scheduler.waitNext(Math.min(action.count, scheduler.count()));
                  break;
                case 'settle':
                  await settleAndCheck();
                  break;
                case 'sync':
                  group.syncStandbys();
                  break;
                case 'fail-node':
                  watch(group.onNodeFailure(node(action.member)));
                  break;
                case 'recover-node':
                  group.onNodeRecovery(node(action.member));
                  break;
                case 'promote':
                  watch(group.promote());
                  break;
                case 'crash-active-on-next':
                  if (group.health().status !== 'dead')
                    ledgerOf(runtime, group.activeOrigin()).throwOnId = nextId;
                  break;
                case 'break-next-restore': {
                  const origin = group.listMembers()[action.member % memberCount]!.originHash;
                  if (runtime.has(origin)) ledgerOf(runtime, origin).failNextRestore = true;
                  break;
                }
              }
            } catch (error) {
              if (refusalCode(error) === 'GROUP_BUSY') totals.busy++;
            }
          }
          await settleAndCheck();
          totals.acknowledged += deliveries.filter((delivery) => typeof delivery.outcome === 'number').length;
          totals.removed += deliveries.filter((delivery) => delivery.outcome === 'DAEMON_REMOVED').length;
          totals.promotions += group.stats.promotions;
          group.close();
        },
      ),
      { numRuns: RUNS },
    );
    // The runs did the work the property is about: failovers with events in flight.
    expect(totals.acknowledged).toBeGreaterThan(RUNS);
    expect(totals.removed).toBeGreaterThan(0);
    expect(totals.promotions).toBeGreaterThan(0);
    expect(totals.busy).toBeGreaterThan(0);
    expect(totals.checks).toBeGreaterThan(RUNS);
  });
});
