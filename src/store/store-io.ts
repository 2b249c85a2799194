import type { Clock, Disk, DiskFile } from '../lib/index.js';
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

  async fsync(): Promise<void> {
    this.metrics.directoryFsyncs++;
    await this.disk.fsyncDirectory(this.path);
  }

  /**
   * Replaces `name` with `bytes` so that a crash leaves either the old file or the whole
   * new one: write a temporary file, sync it, rename over the target, sync the directory.
   */
  async writeFileAtomically(name: string, bytes: Uint8Array): Promise<void> {
    const temporaryPath = this.pathOf(`${name}${TEMPORARY_SUFFIX}`);
    const file = await this.disk.open(temporaryPath, 'create');
    try {
      await file.append(bytes);
      await this.datasync(file);
    } finally {
      await file.close();
    }
    await this.disk.rename(temporaryPath, this.pathOf(name));
    await this.fsync();
  }

  async list(): Promise<string[]> {
    return this.disk.list(this.path);
  }

  async remove(name: string): Promise<void> {
    await this.disk.remove(this.pathOf(name));
  }
}
