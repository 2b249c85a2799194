import { afterEach, describe, expect, it } from 'vitest';
import {
  type AppendMessage,
  type ChainDefinition,
  type ChainEntry,
  ChainReplica,
} from '../../../src/chains/index.js';
import { ManualClock } from '../../../src/lib/index.js';
import { MemoryChainDisk, MemoryChainLog } from '../../support/chains/memory-chain-log.js';

/**
 * A log whose reads answer the log as it stood when they were asked, but only once released:
 * a read of the disk log in flight, which a truncation queued meanwhile waits for.
 */
class HeldReadsLog extends MemoryChainLog {
  private readonly held: (() => void)[] = [];

  override read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]> {
    const answer = super.read(fromOffset, maxRecords, maxBytes);
    return new Promise((resolve) => this.held.push(() => resolve(answer)));
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

const CHAIN = 'chain-a';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function record(offset: number, epoch: number, text?: string): ChainEntry {
  return {
    offset,
    epoch,
    kind: text === undefined ? 'epoch-start' : 'data',
    appendedAtMs: 0,
    payload: encoder.encode(text ?? ''),
  };
}

function append(
  epoch: number,
  fromOffset: number,
  prevEpoch: number,
  entries: ChainEntry[],
  commitOffset: number,
): AppendMessage {
  return { type: 'append', chain: CHAIN, epoch, fromOffset, prevEpoch, entries, commitOffset, sentAtMs: 0 };
}

let replica: ChainReplica | undefined;

afterEach(() => {
  replica?.close();
  replica = undefined;
});

describe('ChainReplica.read', () => {
  it('answers only records committed when the log was read, not ones a new leader replaced meanwhile', async () => {
    const clock = new ManualClock(0);
    const log = new HeldReadsLog(new MemoryChainDisk(), clock);
    const definition: ChainDefinition = {
      name: CHAIN,
      replicas: [1, 2, 3],
      acks: 'quorum',
      sync: { mode: 'batch' },
      retention: {},
      epoch: 1,
      leader: 2,
      createdAtMs: 0,
    };
    const follower = new ChainReplica({ self: 1, definition, log, clock, send: () => undefined });
    replica = follower;
    // Epoch 1's leader sent `old` at offset 2 but had only `a` committed.
    follower.receive(2, append(1, 0, 0, [record(0, 1), record(1, 1, 'a'), record(2, 1, 'old')], 2));
    expect(follower.commitOffset).toBe(2);

    const reading = follower.read(1, 100, 1 << 20);
    // While that read is in flight, epoch 2's leader replaces `old` and commits past it.
    follower.receive(3, append(2, 2, 1, [record(2, 2), record(3, 2, 'new')], 4));
    expect(follower.commitOffset).toBe(4);
    log.release();

    const texts = (entries: ChainEntry[]): string[] => entries.map((entry) => decoder.decode(entry.payload));
    expect(texts(await reading)).toEqual(['a']);
    const again = follower.read(1, 100, 1 << 20);
    log.release();
    expect(texts(await again)).toEqual(['a', 'new']);
  });
});
