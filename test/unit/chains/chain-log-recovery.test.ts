import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Disk, isMeshError, MemoryDisk } from '../../../src/lib/index.js';
import {
  type ChainDiskFixture,
  memoryFixture,
  nodeFixture,
  openLog,
  readAll,
  records,
  summary,
} from './chain-log-support.js';

/** Frame (16 bytes) and fixed fields (28 bytes) around each record's payload. */
const RECORD_OVERHEAD_BYTES = 44;
const PAYLOAD_BYTES = 40;

async function lastSegmentPath(disk: Disk, directory: string): Promise<string> {
  const names = (await disk.list(directory)).filter((name) => name.endsWith('.wal'));
  return path.posix.join(directory, names.at(-1)!);
}

/** Replaces a file's content, on either kind of disk. */
async function overwrite(disk: Disk, filePath: string, bytes: Uint8Array): Promise<void> {
  const file = await disk.open(filePath, 'create');
  await file.append(bytes);
  await file.datasync();
  await file.close();
}

describe.each([
  ['MemoryDisk', memoryFixture],
  ['NodeDisk', nodeFixture],
])('torn tail recovery on %s', (_name, makeFixture: () => Promise<ChainDiskFixture>) => {
  it('cuts a last record torn at every byte position, keeping every record before it', async () => {
    const fixture = await makeFixture();
    try {
      const { disk, directory } = fixture;
      const written = records(0, 30, 2, PAYLOAD_BYTES);
      const log = await openLog(disk, {}, directory);
      log.append(written);
      await log.close();
      const segmentPath = await lastSegmentPath(disk, directory);
      const whole = await disk.readFile(segmentPath);
      const lastRecordStart = whole.byteLength - (RECORD_OVERHEAD_BYTES + PAYLOAD_BYTES);
      for (let cut = lastRecordStart; cut < whole.byteLength; cut++) {
        await overwrite(disk, segmentPath, whole.slice(0, cut));
        const reopened = await openLog(disk, {}, directory);
        expect(reopened.endOffset, `cut at byte ${cut}`).toBe(29);
        expect(reopened.metrics.recoveredTornBytes).toBe(cut - lastRecordStart);
        expect(summary(await readAll(reopened, 100))).toEqual(summary(written.slice(0, 29)));
        await reopened.close();
        expect((await disk.readFile(segmentPath)).byteLength).toBe(lastRecordStart);
      }
      // The log goes on from the cut.
      const reopened = await openLog(disk, {}, directory);
      reopened.append(records(29, 2, 3, PAYLOAD_BYTES));
      await reopened.close();
      const again = await openLog(disk, {}, directory);
      expect(summary(await readAll(again))).toEqual(
        summary([...written.slice(0, 29), ...records(29, 2, 3, PAYLOAD_BYTES)]),
      );
      await again.close();
    } finally {
      await fixture.cleanup();
    }
  });

  it('cuts a last record whose payload checksum fails', async () => {
    const fixture = await makeFixture();
    try {
      const { disk, directory } = fixture;
      const log = await openLog(disk, {}, directory);
      log.append(records(0, 10, 1));
      await log.close();
      const segmentPath = await lastSegmentPath(disk, directory);
      const bytes = await disk.readFile(segmentPath);
      bytes[bytes.byteLength - 3]! ^= 0x10;
      await overwrite(disk, segmentPath, bytes);
      const reopened = await openLog(disk, {}, directory);
      expect(reopened.endOffset).toBe(9);
      await reopened.close();
    } finally {
      await fixture.cleanup();
    }
  });
});

describe('corruption before the tail', () => {
  async function writtenLog(): Promise<{ disk: MemoryDisk; files: string[] }> {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    // 11 records fill a 1 KiB segment: the last of 10 segments holds 3.
    log.append(records(0, 102, 1));
    await log.close();
    const files = (await disk.list('/chains/orders')).filter((name) => name.endsWith('.wal'));
    return { disk, files: files.map((name) => `/chains/orders/${name}`) };
  }

  async function openError(disk: Disk): Promise<unknown> {
    return openLog(disk).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  it('refuses to open when a record in the middle of the last segment fails its checksum', async () => {
    const { disk, files } = await writtenLog();
    disk.flipBit(files.at(-1)!, 32 + 20);
    const error = await openError(disk);
    expect(isMeshError(error, 'CHAIN_LOG_CORRUPT')).toBe(true);
    expect((error as { file: string }).file).toBe(files.at(-1));
  });

  it('refuses to open when a sealed segment is damaged anywhere, its end included', async () => {
    for (const position of [40, 300, -1]) {
      const { disk, files } = await writtenLog();
      const sealed = files[1]!;
      const size = (await disk.readFile(sealed)).byteLength;
      disk.flipBit(sealed, position < 0 ? size + position : position);
      expect(isMeshError(await openError(disk), 'CHAIN_LOG_CORRUPT'), `byte ${position}`).toBe(true);
    }
  });

  it('refuses to open when a segment in the middle is missing', async () => {
    const { disk, files } = await writtenLog();
    await disk.remove(files[2]!);
    expect(isMeshError(await openError(disk), 'CHAIN_LOG_CORRUPT')).toBe(true);
  });

  it('fails a read that meets a record damaged after the open, instead of returning it', async () => {
    const { disk, files } = await writtenLog();
    const log = await openLog(disk);
    disk.flipBit(files[0]!, 32 + 20);
    const error = await log.read(0, 10, 1 << 20).catch((caught: unknown) => caught);
    expect(isMeshError(error, 'CHAIN_LOG_CORRUPT')).toBe(true);
    expect(summary(await log.read(11, 2, 1 << 20))).toEqual(summary(records(11, 2, 1)));
    await log.close();
  });

  it('refuses to open with a damaged promise file', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.setPromisedEpoch(3);
    await log.close();
    disk.flipBit('/chains/orders/promised', 9);
    expect(isMeshError(await openError(disk), 'CHAIN_LOG_CORRUPT')).toBe(true);
  });
});

describe('crash while a segment is being created', () => {
  it('drops a newest segment whose header never reached the disk', async () => {
    const disk = new MemoryDisk();
    const log = await openLog(disk);
    log.append(records(0, 50, 1));
    await log.close();
    await overwrite(disk, '/chains/orders/log-00000000000000000050.wal', new Uint8Array(10));
    const reopened = await openLog(disk);
    expect(reopened.endOffset).toBe(50);
    expect(summary(await readAll(reopened))).toEqual(summary(records(0, 50, 1)));
    await reopened.close();
  });
});
