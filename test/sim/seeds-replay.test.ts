import { describe, expect, it } from 'vitest';
import { expectRealWork, runSeedRange } from './seed-range.js';

const SEEDS = 16;
/** Share of client writes delivered a second time, late (exercises stale session requests). */
const REPLAY_PROBABILITY = 0.03;

describe('simulation seeds with replayed client writes and silent message loss', () => {
  it(`survives replayed client writes on seeds 1001..${1000 + SEEDS}`, async () => {
    const summary = await runSeedRange(1001, SEEDS, { requestReplayProbability: REPLAY_PROBABILITY });
    expectRealWork(summary, SEEDS);
    // Replays reached a node after a newer request of their client and were refused with
    // STALE_REQUEST, the node going on serving.
    expect(summary.staleRefused).toBeGreaterThan(0);
  }, 120_000);

  it(`recovers when senders never learn of lost messages on seeds 2001..${2000 + SEEDS}`, async () => {
    expectRealWork(await runSeedRange(2001, SEEDS, { reportLostMessages: false }), SEEDS);
  }, 120_000);
});
