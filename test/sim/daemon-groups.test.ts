import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/index.js';
import { describeViolation } from './seed-range.js';

const SEEDS = 2;
/** Seeds whose fork points fall after parent events and whose forks fail over (drawn from the seed). */
const FORK_SEEDS = [3, 4];
/** Fault-phase events: with chains and daemons, 5-10 s simulated, several strikes. */
const STEPS = 20_000;

describe('simulation with replica and fork groups (production daemons service on the simulated chains)', () => {
  it(`a replica group keeps every member's invariants on seeds 1..${SEEDS} with all faults`, async () => {
    let strikes = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await runSimulation({ seed, steps: STEPS, daemonGroups: ['replica'], traceLines: 300 });
      expect(result.violation, describeViolation(result)).toBeUndefined();
      const daemons = result.daemons!;
      expect(daemons.daemons).toEqual(['journal-r']);
      // Every member's journal was held against the events routed to it (3 members).
      expect(daemons.replicaMembersChecked, `seed=${seed}`).toBe(3);
      expect(daemons.outputStreamsChecked, `seed=${seed}`).toBe(3);
      // Real work: every member acknowledged events, by key and by client id.
      const acknowledged = daemons.history.filter((operation) => operation.status === 'ok');
      expect(new Set(acknowledged.map((operation) => operation.memberIndex)).size, `seed=${seed}`).toBe(3);
      expect(acknowledged.some((operation) => operation.key === undefined)).toBe(true);
      expect(acknowledged.some((operation) => operation.key !== undefined)).toBe(true);
      strikes += daemons.activeStrikes;
    }
    expect(strikes).toBeGreaterThan(SEEDS);
  }, 300_000);

  it(`a fork group holds its parent's history to the fork point, then its own, on seeds ${FORK_SEEDS.join(', ')}`, async () => {
    let prefixEvents = 0;
    let epochsBeyondFirst = 0;
    for (const seed of FORK_SEEDS) {
      const result = await runSimulation({ seed, steps: STEPS, daemonGroups: ['fork'], traceLines: 300 });
      expect(result.violation, describeViolation(result)).toBeUndefined();
      const daemons = result.daemons!;
      expect(daemons.daemons).toEqual(['journal-a', 'journal-f']);
      const forkAcknowledged = daemons.history.filter(
        (operation) => operation.daemon === 'journal-f' && operation.status === 'ok',
      );
      expect(forkAcknowledged.length, `seed=${seed}`).toBeGreaterThan(5);
      // The output streams of the parent and of the fork were compared with their members' outcomes.
      expect(daemons.outputStreamsChecked, `seed=${seed}`).toBe(2);
      prefixEvents += daemons.forkPrefixEvents;
      epochsBeyondFirst += daemons.highestEpoch - 1;
    }
    // Some fork point fell after parent events (the prefix is drawn from 0 to the parent's end).
    expect(prefixEvents).toBeGreaterThan(0);
    expect(epochsBeyondFirst).toBeGreaterThan(0);
  }, 300_000);

  it('replays a seed with every group kind exactly: same trace digest, same history', async () => {
    const options = {
      seed: 3,
      steps: 8_000,
      daemonGroups: ['standby', 'replica', 'fork'],
      traceLines: 0,
    } as const;
    const first = await runSimulation(options);
    const second = await runSimulation(options);
    expect(first.violation, describeViolation(first)).toBeUndefined();
    expect(second.traceDigest).toBe(first.traceDigest);
    expect(second.daemons?.history).toEqual(first.daemons?.history);
    expect(first.daemons!.daemons).toEqual(['journal-a', 'journal-b', 'journal-r', 'journal-f']);
  }, 180_000);
});
