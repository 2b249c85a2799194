import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/lib/index.js';
import { BATCH_TARGET_BYTES, MAX_BATCH_MESSAGES, reconnectDelayMs } from '../../../src/transport/index.js';
import { PeerSendQueue } from '../../../src/transport/send-queue.js';

describe('PeerSendQueue', () => {
  it('refuses a message over the count limit, then accepts again once drained', () => {
    const queue = new PeerSendQueue(2, 1000);
    expect(queue.enqueue(new Uint8Array(1))).toBe('queued');
    expect(queue.enqueue(new Uint8Array(1))).toBe('queued');
    expect(queue.enqueue(new Uint8Array(1))).toBe('full-messages');
    expect(queue.takeBatch()).toHaveLength(2);
    expect(queue.enqueue(new Uint8Array(1))).toBe('queued');
  });

  it('refuses a message that would pass the byte limit', () => {
    const queue = new PeerSendQueue(10, 100);
    expect(queue.enqueue(new Uint8Array(60))).toBe('queued');
    expect(queue.enqueue(new Uint8Array(41))).toBe('full-bytes');
    expect(queue.enqueue(new Uint8Array(40))).toBe('queued');
    expect(queue.queuedBytes).toBe(100);
  });

  it('keeps order across the ring boundary and caps each batch', () => {
    const queue = new PeerSendQueue(MAX_BATCH_MESSAGES + 10, 10 * BATCH_TARGET_BYTES);
    for (let index = 0; index < MAX_BATCH_MESSAGES + 5; index++) queue.enqueue(Uint8Array.of(index % 256));
    const first = queue.takeBatch();
    expect(first).toHaveLength(MAX_BATCH_MESSAGES);
    for (let index = 0; index < 8; index++) queue.enqueue(Uint8Array.of(200 + index));
    const rest = queue.takeBatch();
    expect(rest.map((message) => message[0])).toEqual([
      0, 1, 2, 3, 4, 200, 201, 202, 203, 204, 205, 206, 207,
    ]);
    expect(queue.length).toBe(0);
  });

  it('closes a batch at the byte target but always takes at least one message', () => {
    const queue = new PeerSendQueue(10, 10 * BATCH_TARGET_BYTES);
    queue.enqueue(new Uint8Array(BATCH_TARGET_BYTES + 1));
    queue.enqueue(new Uint8Array(10));
    expect(queue.takeBatch()).toHaveLength(1);
    expect(queue.takeBatch()).toHaveLength(1);
  });
});

describe('reconnectDelayMs', () => {
  it('grows from the minimum, doubling, and never passes the maximum', () => {
    const random = new SeededRandom(7);
    for (let attempt = 1; attempt <= 40; attempt++) {
      const ceiling = Math.min(1000, 10 * 2 ** (attempt - 1));
      const delay = reconnectDelayMs(attempt, random, 10, 1000);
      expect(delay).toBeGreaterThanOrEqual(Math.max(10, ceiling / 2));
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it('spreads peers that fail together', () => {
    const delays = new Set(
      Array.from({ length: 20 }, (_unused, seed) => reconnectDelayMs(8, new SeededRandom(seed), 10, 100_000)),
    );
    expect(delays.size).toBeGreaterThan(10);
  });
});
