/**
 * Where this node keeps its members' checkpoints: one file per daemon, `<name>.checkpoint` in
 * the data directory's `daemons/` folder, replaced atomically (temporary file, fdatasync, rename,
 * directory fsync), so a crash leaves the previous checkpoint or the new one whole. A file that
 * does not decode (torn, damaged, another format) is reported and ignored: the member replays
 * the inbound chain instead.
 */
import * as path from 'node:path';
import {
  decodeMemberCheckpoint,
  encodeMemberCheckpoint,
  type MemberCheckpoint,
} from '../daemons/member-checkpoint.js';
import type { Disk, Logger } from '../lib/index.js';

const CHECKPOINT_SUFFIX = '.checkpoint';
const TEMPORARY_SUFFIX = '.tmp';

/** What a member needs of its node's checkpoint storage. */
export interface MemberCheckpointStore {
  /** The checkpoint kept for daemon `name`, or undefined (none, or one that does not decode). */
  load(name: string): Promise<MemberCheckpoint | undefined>;
  save(name: string, checkpoint: MemberCheckpoint): Promise<void>;
  remove(name: string): Promise<void>;
}

export class DiskCheckpointStore implements MemberCheckpointStore {
  private made = false;

  constructor(
    private readonly disk: Disk,
    private readonly directory: string,
    private readonly logger?: Logger,
  ) {}

  async load(name: string): Promise<MemberCheckpoint | undefined> {
    const file = this.fileOf(name);
    if (!(await this.disk.exists(file))) return undefined;
    try {
      return decodeMemberCheckpoint(await this.disk.readFile(file), file);
    } catch (error) {
      this.logger?.warn({ err: error, file }, 'daemons: ignoring a checkpoint file that does not decode');
      return undefined;
    }
  }

  async save(name: string, checkpoint: MemberCheckpoint): Promise<void> {
    if (!this.made) {
      await this.disk.makeDirectory(this.directory);
      this.made = true;
    }
    const file = this.fileOf(name);
    const temporary = `${file}${TEMPORARY_SUFFIX}`;
    const handle = await this.disk.open(temporary, 'create', { background: true });
    try {
      await handle.append(encodeMemberCheckpoint(checkpoint));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await this.disk.rename(temporary, file);
    await this.disk.fsyncDirectory(this.directory);
  }

  async remove(name: string): Promise<void> {
    const file = this.fileOf(name);
    if (await this.disk.exists(file)) await this.disk.remove(file);
  }

  private fileOf(name: string): string {
    // Daemon names are keyspace names (letters, digits, `.`, `_`, `-`, starting with a letter or
    // digit), so one is a safe file name.
    return path.join(this.directory, `${name}${CHECKPOINT_SUFFIX}`);
  }
}

/** Keeps checkpoints in memory: the in-process tests' node disks. */
export class MemoryCheckpointStore implements MemberCheckpointStore {
  readonly files = new Map<string, Uint8Array>();
  saves = 0;

  async load(name: string): Promise<MemberCheckpoint | undefined> {
    const bytes = this.files.get(name);
    return bytes === undefined ? undefined : decodeMemberCheckpoint(bytes);
  }

  async save(name: string, checkpoint: MemberCheckpoint): Promise<void> {
    this.saves += 1;
    this.files.set(name, encodeMemberCheckpoint(checkpoint));
  }

  async remove(name: string): Promise<void> {
    this.files.delete(name);
  }
}
