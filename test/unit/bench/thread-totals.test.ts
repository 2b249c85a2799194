import { describe, expect, it } from 'vitest';
import { threadTotals } from '../../../bench/cluster/processes.js';

describe('threadTotals', () => {
  it("sums this process's threads and never goes back", async () => {
    const before = await threadTotals(process.pid);
    let spin = 0;
    for (let index = 0; index < 1_000_000; index++) spin += index;
    expect(spin).toBeGreaterThan(0);
    const after = await threadTotals(process.pid);
    expect(before.runMicroseconds).toBeGreaterThan(0);
    expect(after.runMicroseconds).toBeGreaterThan(before.runMicroseconds);
    expect(after.voluntarySwitches).toBeGreaterThanOrEqual(before.voluntarySwitches);
    expect(after.involuntarySwitches).toBeGreaterThanOrEqual(before.involuntarySwitches);
    // Reading the files through the thread pool puts threads to sleep.
    expect(after.voluntarySwitches).toBeGreaterThan(0);
  });

  it('is all zeros for a process that does not exist', async () => {
    expect(await threadTotals(2 ** 22 + 1)).toEqual({
      runMicroseconds: 0,
      voluntarySwitches: 0,
      involuntarySwitches: 0,
    });
  });
});
