import type { Clock, Disk, DiskFile } from '../lib/index.js';
import { BackgroundFileWriter } from './background-file-writer.js';
import { joinPath, TEMPORARY_SUFFIX } from './file-names.js';
import { recordFsyncLatency, type StoreMetrics } from './metrics.js';

/** The store's view of its directory: every sync is timed and counted here. */
export class StoreDirectory {
  constructor(
    readonly disk: Disk,
    readonly path: string,
    private readonly clock: Clock,
    private readonly metrics: StoreMetrics,
  ) {}

  pathOf(name: string): string {
    return joinPath(this.path, name);
  }

  async datasync(file: DiskFile): Promise<void> {
    const startedMs = this.clock.nowMs();
    await file.datasync();
    recordFsyncLatency(this.metrics, this.clock.nowMs() - startedMs);
  }

  /**
   * As `datasync`, through the file's `datasyncNow` where it has one: undefined when every write
   * is durable on return, else the promise of the sync's end. Only a write made on the spot
   * (`SegmentWriter.writeNow`) syncs so; every other sync goes through the file's `datasync`,
   * which is what a disk that injects faults or holds syncs back replaces.
   */
  datasyncNow(file: DiskFile): Promise<void> | undefined {
    if (file.datasyncNow === undefined) return this.datasync(file);
    const startedMs = this.clock.nowMs();
    const rest = file.datasyncNow();
    if (rest === undefined) {
      recordFsyncLatency(this.metrics, this.clock.nowMs() - startedMs);
      return undefined;
    }
    return rest.then(() => recordFsyncLatency(this.metrics, this.clock.nowMs() - startedMs));
  }

  async fsync(): Promise<void> {
    this.metrics.directoryFsyncs++;
    await this.disk.fsyncDirectory(this.path);
  }

  /**
   * Replaces `name` with the concatenation of `parts` so that a crash leaves either the old file
   * or the whole new one: write a temporary file, sync it, rename over the target, sync the
   * directory. With `background` (a large file such as a snapshot) writes and syncs stay off
   * the event loop, the file is synced every `BACKGROUND_SYNC_BYTES` as it is written, and the
   * loop gets a turn before each part is made (parts may be computed as they are taken, like a
   * checksum).
   */
  async writeFileAtomically(name: string, parts: Iterable<Uint8Array>, background = false): Promise<void> {
    const temporaryPath = this.pathOf(`${name}${TEMPORARY_SUFFIX}`);
    const file = await this.disk.open(temporaryPath, 'create', { background });
    try {
      // A large file is synced as it is written, so no single sync has all of it to flush.
      const writer = background ? new BackgroundFileWriter(this, file) : file;
      const iterator = parts[Symbol.iterator]();
      for (;;) {
        if (background) await this.nextTurn();
        const part = iterator.next();
        if (part.done === true) break;
        await writer.append(part.value);
      }
      await this.datasync(file);
    } finally {
      await file.close();
    }
    await this.disk.rename(temporaryPath, this.pathOf(name));
    await this.fsync();
  }

  /** Cuts a file to `sizeBytes` (a torn tail) and syncs the cut. */
  async truncateFile(filePath: string, sizeBytes: number): Promise<void> {
    const file = await this.disk.open(filePath, 'append');
    try {
      await file.truncate(sizeBytes);
      await this.datasync(file);
    } finally {
      await file.close();
    }
  }

  /** Removes files left by interrupted atomic writes (`*.tmp` among `names`). */
  async removeTemporaryFiles(names: readonly string[]): Promise<void> {
    const temporary = names.filter((name) => name.endsWith(TEMPORARY_SUFFIX));
    for (const name of temporary) await this.remove(name);
    if (temporary.length > 0) await this.fsync();
  }

  private nextTurn(): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(0, resolve));
  }

  async list(): Promise<string[]> {
    return this.disk.list(this.path);
  }

  async remove(name: string): Promise<void> {
    await this.disk.remove(this.pathOf(name));
  }
}
