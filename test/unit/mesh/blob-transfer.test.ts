/** The bound on a node's blob transfers: at most `running` at once, `waiting` queued, BLOB_BUSY past that. */
import { describe, expect, it } from 'vitest';
import { TransferSlots } from '../../../src/mesh/blob-transfer.js';
import { rejectionCode } from '../../support/error-code.js';

describe('TransferSlots', () => {
  it('runs at most its bound at once, queues a bounded number, refuses the rest with BLOB_BUSY', async () => {
    const slots = new TransferSlots(2, 1);
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const transfer = () =>
      slots.run(async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
      });
    const first = transfer();
    const second = transfer();
    const queued = transfer();
    expect(await rejectionCode(transfer())).toBe('BLOB_BUSY');
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(2);
    releases.shift()?.();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    // The queued one took the freed slot.
    expect(running).toBe(2);
    for (const release of releases.splice(0)) release();
    await Promise.all([second, queued]);
    expect(most).toBe(2);
    expect(slots.inUse).toBe(0);
  });

  it('frees the slot of a transfer that failed', async () => {
    const slots = new TransferSlots(1, 0);
    await expect(slots.run(async () => Promise.reject(new Error('lost')))).rejects.toThrow('lost');
    expect(await slots.run(async () => 'next')).toBe('next');
    expect(slots.inUse).toBe(0);
  });
});
