/**
 * `ChainLogTail`: the newest records of a chain log in memory, answering reads at the log's end as
 * the segment files would (record and byte budgets, the first record whatever its size), kept in
 * step with truncations and restarts, bounded; and a log whose reads at its end it serves.
 */
import { describe, expect, it } from 'vitest';
import {
  CHAIN_TAIL_MAX_BYTES,
  CHAIN_TAIL_MAX_RECORDS,
  ChainLogTail,
} from '../../../src/chains/chain-log-tail.js';
import { MemoryDisk } from '../../../src/lib/index.js';
import { CountingDisk, openLog, record, records, summary } from './chain-log-support.js';

const offsets = (entries: readonly { offset: number }[] | undefined) => entries?.map((entry) => entry.offset);

describe('ChainLogTail', () => {
  it('answers reads from a kept offset within the record and byte budgets; undefined before what it keeps', () => {
    const tail = new ChainLogTail();
    tail.add([record(0, 1, 5000), ...records(1, 20, 1, 100)]);
    expect(offsets(tail.read(0, 10, 10))).toEqual([0]);
    expect(offsets(tail.read(1, 10, 350))).toEqual([1, 2, 3]);
    expect(offsets(tail.read(5, 4, 1 << 20))).toEqual([5, 6, 7, 8]);
    expect(offsets(tail.read(19, 10, 1 << 20))).toEqual([19, 20]);
    expect(tail.read(21, 4, 100)).toBeUndefined();
  });

  it('keeps at most CHAIN_TAIL_MAX_RECORDS records and about CHAIN_TAIL_MAX_BYTES of payload, the newest', () => {
    const tail = new ChainLogTail();
    tail.add(records(0, CHAIN_TAIL_MAX_RECORDS + 10, 1, 8));
    expect(tail.read(9, 1, 1 << 20)).toBeUndefined();
    expect(offsets(tail.read(10, 1, 1 << 20))).toEqual([10]);
    const large = new ChainLogTail();
    const payloadBytes = 1024;
    const count = CHAIN_TAIL_MAX_BYTES / payloadBytes + 5;
    large.add(records(0, count, 1, payloadBytes));
    expect(large.read(4, 1, 1 << 20)).toBeUndefined();
    expect(offsets(large.read(5, 1, 1 << 20))).toEqual([5]);
    // One record larger than the budget is still kept: the newest is always there.
    const huge = new ChainLogTail();
    huge.add([record(0, 1, CHAIN_TAIL_MAX_BYTES * 2)]);
    expect(offsets(huge.read(0, 1, 1))).toEqual([0]);
  });

  it('drops what a truncation cut and goes on from there; a restart forgets everything', () => {
    const tail = new ChainLogTail();
    tail.add(records(0, 10, 1));
    tail.truncateFrom(6);
    expect(offsets(tail.read(0, 100, 1 << 20))).toEqual([0, 1, 2, 3, 4, 5]);
    tail.add(records(6, 2, 2));
    expect(summary(tail.read(4, 100, 1 << 20) ?? [])).toEqual(
      summary([...records(4, 2, 1), ...records(6, 2, 2)]),
    );
    tail.truncateFrom(0);
    expect(tail.read(0, 1, 1 << 20)).toBeUndefined();
    tail.add(records(0, 3, 3));
    tail.clear();
    expect(tail.read(0, 1, 1 << 20)).toBeUndefined();
    // Records that do not follow what is kept replace it (the log restarted at their offset).
    tail.add(records(0, 3, 3));
    tail.add(records(100, 2, 3));
    expect(tail.read(0, 1, 1 << 20)).toBeUndefined();
    expect(offsets(tail.read(100, 10, 1 << 20))).toEqual([100, 101]);
  });
});

describe('a chain log reading at its end', () => {
  it('answers from memory what its files answer, without opening a file', async () => {
    const disk = new CountingDisk();
    const log = await openLog(disk);
    log.append(records(0, 40, 1));
    const fromMemory = await log.read(25, 100, 1 << 20);
    expect(disk.readFilesOpen).toBe(0);
    await log.close();
    const reopened = await openLog(disk);
    const fromFiles = await reopened.read(25, 100, 1 << 20);
    expect(disk.readFilesOpen).toBeGreaterThan(0);
    expect(summary(fromMemory)).toEqual(summary(fromFiles));
    expect(summary(fromMemory)).toEqual(summary(records(25, 15, 1)));
    await reopened.close();
  });

  it('reads after a truncation and a restart what the log holds then', async () => {
    const log = await openLog(new MemoryDisk());
    log.append(records(0, 20, 1));
    log.truncateFrom(12);
    log.append(records(12, 3, 2));
    expect(summary(await log.read(10, 100, 1 << 20))).toEqual(
      summary([...records(10, 2, 1), ...records(12, 3, 2)]),
    );
    log.restartAt(40);
    expect(await log.read(40, 100, 1 << 20)).toEqual([]);
    log.append(records(40, 2, 3));
    expect(summary(await log.read(40, 100, 1 << 20))).toEqual(summary(records(40, 2, 3)));
    await log.close();
  });
});
