import { describe, expect, it } from 'vitest';
import { HostTimerGuard } from '../../src/sim/host-timer-guard.js';

describe('HostTimerGuard', () => {
  it('reports every host timer call while installed, passes it on, and restores the host functions', async () => {
    const hostSetImmediate = globalThis.setImmediate;
    const calls: string[] = [];
    const guard = new HostTimerGuard((timer, stack) =>
      calls.push(`${timer} ${stack.includes('host-timer-guard.test') ? 'here' : 'elsewhere'}`),
    );
    let ran = false;
    const done = new Promise<void>((resolve) =>
      setImmediate(() => {
        ran = true;
        resolve();
      }),
    );
    clearTimeout(setTimeout(() => {}, 1_000));
    guard.close();
    expect(calls).toEqual(['setImmediate here', 'setTimeout here']);
    expect(globalThis.setImmediate).toBe(hostSetImmediate);
    await done;
    expect(ran).toBe(true);
  });
});
