import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/index.js';
import type { UnsafeMemberReads } from '../../src/sim/sim-daemons.js';

/** The broken rule must be caught within this many seeds (a few, usually). */
const MAX_SEEDS_TO_CATCH = 12;
const STEPS = 30_000;

async function firstViolation(
  unsafeDaemonReads: UnsafeMemberReads,
): Promise<{ seed: number; invariant: string; message: string } | undefined> {
  for (let seed = 1; seed <= MAX_SEEDS_TO_CATCH; seed++) {
    const result = await runSimulation({ seed, steps: STEPS, unsafeDaemonReads, traceLines: 0 });
    if (result.violation !== undefined) return { seed, ...result.violation };
  }
  return undefined;
}

describe('simulation catches daemon members that break a safety rule', () => {
  it('members that ignore client ids and sequences apply a retried event twice', async () => {
    const caught = await firstViolation('skip-dedup');
    expect(caught, 'no violation found with deduplication skipped').toBeDefined();
    expect(caught!.invariant).toBe('daemon-acknowledged-events');
    expect(caught!.message).toMatch(/twice|after/);
    // The same seed with the real members keeps every invariant.
    const correct = await runSimulation({ seed: caught!.seed, steps: STEPS, daemons: true, traceLines: 0 });
    expect(correct.violation).toBeUndefined();
  }, 300_000);

  it('members that ignore epochs apply what a fenced old active appended', async () => {
    const caught = await firstViolation('skip-epochs');
    expect(caught, 'no violation found with the epoch rule skipped').toBeDefined();
    expect(caught!.invariant).toBe('daemon-fenced-event-applied');
    const correct = await runSimulation({ seed: caught!.seed, steps: STEPS, daemons: true, traceLines: 0 });
    expect(correct.violation).toBeUndefined();
  }, 300_000);
});
