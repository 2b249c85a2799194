import { assert } from '../lib/index.js';
import { BackgroundFileWriter } from './background-file-writer.js';
import { crc32c } from './crc32c.js';
import { snapshotFileName, TEMPORARY_SUFFIX } from './file-names.js';
import { snapshotFileHeader, snapshotFileTrailer } from './snapshot-file.js';
import type { StoreDirectory } from './store-io.js';
import type { SnapshotToSave } from './types.js';

/**
 * A snapshot file written while a follower receives the snapshot: the header first (the leader
 * names the index, term, configuration and size up front), then each chunk of data as it
 * arrives, then the checksum. Writes run in order off the event loop, synced every
 * `BACKGROUND_SYNC_BYTES`; nothing of the snapshot is held in memory beyond the chunk being written. `finish` syncs the file and renames it into
 * place, so a crash leaves no half snapshot under a snapshot's name (a leftover temporary file is
 * removed when the store opens).
 */
export class SnapshotReception {
  readonly index: number;
  private readonly temporaryName: string;
  private readonly file: Promise<BackgroundFileWriter>;
  /** The writes so far, in order: each waits for the one before. */
  private writes: Promise<void>;
  private checksum: number;
  private written = 0;

  constructor(
    private readonly directory: StoreDirectory,
    snapshot: Omit<SnapshotToSave, 'data'>,
    readonly dataBytes: number,
    /** Tells receptions apart: an abandoned one's file goes while a newer one of the same snapshot is written. */
    sequence: number,
  ) {
    this.index = snapshot.index;
    this.temporaryName = `${snapshotFileName(snapshot.index)}.receiving-${sequence}${TEMPORARY_SUFFIX}`;
    const header = snapshotFileHeader(snapshot, dataBytes);
    this.checksum = crc32c(snapshot.config, crc32c(header));
    this.file = directory.disk
      .open(directory.pathOf(this.temporaryName), 'create', { background: true })
      .then((file) => new BackgroundFileWriter(directory, file));
    this.writes = this.file.then(async (file) => {
      await file.append(header);
      await file.append(snapshot.config);
    });
  }

  /** Bytes of data taken so far (written, or being written). */
  get receivedBytes(): number {
    return this.written;
  }

  get complete(): boolean {
    return this.written === this.dataBytes;
  }

  /** Appends the next chunk of data; settles once it (and every chunk before it) is written. */
  write(data: Uint8Array): Promise<void> {
    assert(
      this.written + data.byteLength <= this.dataBytes,
      () => `snapshot ${this.index}: ${this.written + data.byteLength} bytes received of ${this.dataBytes}`,
    );
    this.written += data.byteLength;
    this.checksum = crc32c(data, this.checksum);
    const file = this.file;
    this.writes = this.writes.then(async () => (await file).append(data));
    return this.writes;
  }

  /** Writes the checksum, syncs and renames the file into place as the snapshot at `index`. */
  async finish(): Promise<void> {
    assert(
      this.complete,
      () => `snapshot ${this.index} finished with ${this.written} of ${this.dataBytes} bytes`,
    );
    await this.writes;
    const writer = await this.file;
    try {
      await writer.append(snapshotFileTrailer(this.checksum));
      await writer.finish();
    } finally {
      await writer.file.close();
    }
    await this.directory.disk.rename(
      this.directory.pathOf(this.temporaryName),
      this.directory.pathOf(snapshotFileName(this.index)),
    );
    await this.directory.fsync();
  }

  /** Gives the reception up (a newer snapshot started, or the log already covers it): the file goes. */
  async abort(): Promise<void> {
    await this.writes.catch(() => undefined);
    const writer = await this.file.catch(() => undefined);
    if (writer === undefined) return;
    await writer.file.close();
    await this.directory.remove(this.temporaryName);
  }
}
