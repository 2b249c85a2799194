import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openChainLog } from '../../../src/chains/index.js';
import { MemoryDisk } from '../../../src/lib/index.js';
import { runChainFaults } from '../../support/chains/chain-fault-run.js';

/** Runs per property; each is a few seconds of simulated faults. */
const RUNS = 20;
const STEPS_PER_RUN = 150;
/** Runs over the disk log (slower: real segment files on a MemoryDisk). */
const DISK_RUNS = 6;
const LOSSY_LINKS = { minDelayMs: 1, maxDelayMs: 20, dropProbability: 0.05, duplicateProbability: 0.02 };

describe('chain replicas under random faults (seeded)', () => {
  it('one acknowledging leader per epoch, committed prefixes agree, acknowledged appends kept exactly once in one order', async () => {
    const totals = { acknowledged: 0, epochs: 0, crashes: 0, partitions: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom('quorum' as const, 'all' as const),
        fc.constantFrom(3, 5),
        fc.record({
          minDelayMs: fc.integer({ min: 1, max: 3 }),
          maxDelayMs: fc.integer({ min: 3, max: 30 }),
          dropProbability: fc.double({ min: 0, max: 0.1, noNaN: true }),
          duplicateProbability: fc.double({ min: 0, max: 0.05, noNaN: true }),
        }),
        async (seed, acks, replicaCount, links) => {
          const report = await runChainFaults({ seed, acks, replicaCount, steps: STEPS_PER_RUN, links });
          expect(report.problems, `seed=${seed} acks=${acks} replicas=${replicaCount}`).toEqual([]);
          // Real work happened: at least the final append after the faults was acknowledged.
          expect(report.acknowledged).toBeGreaterThan(0);
          totals.acknowledged += report.acknowledged;
          totals.epochs += report.epochs;
          totals.crashes += report.crashes;
          totals.partitions += report.partitions;
        },
      ),
      { numRuns: RUNS, seed: 20261205 },
    );
    // The runs exercised failover, not just a calm leader.
    expect(totals.crashes).toBeGreaterThan(RUNS);
    expect(totals.epochs).toBeGreaterThan(2 * RUNS);
    expect(totals.acknowledged).toBeGreaterThan(10 * RUNS);
  }, 300_000);

  it('the same with retention and replica-set changes: lagging replicas join at the leader’s start, learners promoted in place of crashed replicas', async () => {
    const totals = { acknowledged: 0, promotions: 0, withRetention: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom('quorum' as const, 'all' as const),
        fc.constantFrom(3, 5),
        fc.integer({ min: 3, max: 30 }),
        async (seed, acks, replicaCount, maxRecords) => {
          const report = await runChainFaults({
            seed,
            acks,
            replicaCount,
            steps: STEPS_PER_RUN,
            links: LOSSY_LINKS,
            retention: { maxRecords },
            membershipChanges: true,
          });
          expect(
            report.problems,
            `seed=${seed} acks=${acks} replicas=${replicaCount} keep=${maxRecords}`,
          ).toEqual([]);
          expect(report.acknowledged).toBeGreaterThan(0);
          totals.acknowledged += report.acknowledged;
          totals.promotions += report.promotions;
          if (report.maxStartOffset > 0) totals.withRetention++;
        },
      ),
      { numRuns: RUNS, seed: 20261207 },
    );
    // Retention dropped records and learners were promoted in most runs, not just once.
    expect(totals.withRetention).toBeGreaterThan(RUNS / 2);
    expect(totals.promotions).toBeGreaterThan(RUNS / 2);
    expect(totals.acknowledged).toBeGreaterThan(10 * RUNS);
  }, 300_000);

  it('acks one: one acknowledging leader per epoch, one record per offset and epoch, copies agree, nothing acknowledged in the final epoch lost', async () => {
    const totals = { acknowledged: 0, epochs: 0, promotions: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom(3, 5),
        fc.boolean(),
        async (seed, replicaCount, withRetention) => {
          const report = await runChainFaults({
            seed,
            acks: 'one',
            replicaCount,
            steps: STEPS_PER_RUN,
            links: LOSSY_LINKS,
            ...(withRetention ? { retention: { maxRecords: 10 } } : {}),
            membershipChanges: true,
          });
          expect(report.problems, `seed=${seed} replicas=${replicaCount} retention=${withRetention}`).toEqual(
            [],
          );
          expect(report.acknowledged).toBeGreaterThan(0);
          totals.acknowledged += report.acknowledged;
          totals.epochs += report.epochs;
          totals.promotions += report.promotions;
        },
      ),
      { numRuns: RUNS, seed: 20261208 },
    );
    expect(totals.epochs).toBeGreaterThan(2 * RUNS);
    expect(totals.promotions).toBeGreaterThan(0);
    expect(totals.acknowledged).toBeGreaterThan(10 * RUNS);
  }, 300_000);

  it('the same invariants over the disk ChainLog (partitions, pauses, lossy links; no crashes)', async () => {
    let acknowledged = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom(3, 5),
        async (seed, replicaCount) => {
          const report = await runChainFaults({
            seed,
            acks: 'quorum',
            replicaCount,
            steps: STEPS_PER_RUN,
            links: LOSSY_LINKS,
            openLog: (id, clock) =>
              openChainLog(new MemoryDisk(), `/node-${id}/chain-a`, {
                sync: { mode: 'batch' },
                retention: {},
                clock,
              }),
          });
          expect(report.problems, `seed=${seed} replicas=${replicaCount}`).toEqual([]);
          acknowledged += report.acknowledged;
        },
      ),
      { numRuns: DISK_RUNS, seed: 20261206 },
    );
    expect(acknowledged).toBeGreaterThan(10 * DISK_RUNS);
  }, 300_000);
});
