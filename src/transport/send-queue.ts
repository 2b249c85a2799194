import { assert } from '../lib/index.js';
import { BATCH_TARGET_BYTES, MAX_BATCH_MESSAGES } from './limits.js';

export type EnqueueResult = 'queued' | 'full-messages' | 'full-bytes';

/**
 * One peer's outgoing messages, bounded by count and bytes. A ring buffer, so taking a
 * batch from the front costs no copying of the rest.
 */
export class PeerSendQueue {
  private readonly ring: Array<Uint8Array | undefined>;
  private head = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {
    assert(Number.isInteger(maxMessages) && maxMessages > 0, `queue message limit ${maxMessages}`);
    assert(Number.isInteger(maxBytes) && maxBytes > 0, `queue byte limit ${maxBytes}`);
    this.ring = new Array(maxMessages);
  }

  get length(): number {
    return this.count;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  enqueue(message: Uint8Array): EnqueueResult {
    if (this.count >= this.maxMessages) return 'full-messages';
    if (this.bytes + message.length > this.maxBytes) return 'full-bytes';
    this.ring[(this.head + this.count) % this.maxMessages] = message;
    this.count++;
    this.bytes += message.length;
    return 'queued';
  }

  /**
   * Removes messages from the front for one frame: at least one, then more while the batch
   * stays within `MAX_BATCH_MESSAGES` and `BATCH_TARGET_BYTES`.
   */
  takeBatch(): Uint8Array[] {
    const batch: Uint8Array[] = [];
    let batchBytes = 0;
    while (this.count > 0 && batch.length < MAX_BATCH_MESSAGES) {
      const message = this.ring[this.head]!;
      if (batch.length > 0 && batchBytes + message.length > BATCH_TARGET_BYTES) break;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.maxMessages;
      this.count--;
      this.bytes -= message.length;
      batch.push(message);
      batchBytes += message.length;
    }
    return batch;
  }

  clear(): number {
    const dropped = this.count;
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    return dropped;
  }
}
