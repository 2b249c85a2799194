/**
 * The files a chain log's reads use, kept open between reads (a tailing reader reads the same
 * segment again and again) but at most `MAX_CHAIN_OPEN_READ_FILES` per log, so a node holding
 * many chains does not run out of file descriptors after catch-up reads of long logs.
 */
import type { Disk, DiskFile } from '../lib/index.js';
import { MAX_CHAIN_OPEN_READ_FILES } from './chain-log-limits.js';

interface OpenReadFile {
  readonly file: DiskFile;
  /** Reads using it now; it is closed only when none is. */
  users: number;
}

export class ChainReadFiles<Key> {
  /** In order of last use, oldest first. */
  private readonly open = new Map<Key, OpenReadFile>();

  constructor(private readonly disk: Disk) {}

  /** Runs `action` with the file at `filePath` open for reading. */
  async use<Result>(
    key: Key,
    filePath: string,
    action: (file: DiskFile) => Promise<Result>,
  ): Promise<Result> {
    let held = this.open.get(key);
    if (held === undefined) {
      const file = await this.disk.open(filePath, 'read');
      held = this.open.get(key);
      if (held === undefined) held = { file, users: 0 };
      else await file.close();
    }
    this.open.delete(key);
    this.open.set(key, held);
    held.users++;
    try {
      return await action(held.file);
    } finally {
      held.users--;
      await this.closeUnused();
    }
  }

  /** Closes the file of a segment being removed (no read uses it: removal waits for reads). */
  async forget(key: Key): Promise<void> {
    const held = this.open.get(key);
    this.open.delete(key);
    await held?.file.close();
  }

  async closeAll(): Promise<void> {
    const files = [...this.open.values()].map((held) => held.file);
    this.open.clear();
    await Promise.allSettled(files.map((file) => file.close()));
  }

  private async closeUnused(): Promise<void> {
    for (const [key, held] of this.open) {
      if (this.open.size <= MAX_CHAIN_OPEN_READ_FILES) return;
      if (held.users > 0) continue;
      this.open.delete(key);
      await held.file.close();
    }
  }
}
