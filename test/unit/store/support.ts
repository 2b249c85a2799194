import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type Disk,
  type DiskFile,
  MemoryDisk,
  MeshError,
  type OpenMode,
  type Random,
} from '../../../src/lib/index.js';
import { NodeDisk, type NodeDiskOptions, silentLogger } from '../../../src/lib/node/index.js';
import {
  type OpenedRaftLogStore,
  openRaftLogStore,
  type RaftLogStoreOptions,
  type StoredEntry,
} from '../../../src/store/index.js';

export function entry(index: number, term: number, dataBytes = 8, fill = index): StoredEntry {
  const data = new Uint8Array(dataBytes);
  for (let position = 0; position < dataBytes; position++) data[position] = (fill + position) & 0xff;
  return { index, term, kind: index % 3, data };
}

export function entries(from: number, to: number, term: number, dataBytes = 8): StoredEntry[] {
  const result: StoredEntry[] = [];
  for (let index = from; index <= to; index++) result.push(entry(index, term, dataBytes));
  return result;
}

/** Entries as plain tuples, so test failures print readably. */
export function summary(list: readonly StoredEntry[]): [number, number, number, string][] {
  return list.map((item) => [item.index, item.term, item.kind, Buffer.from(item.data).toString('hex')]);
}

export function open(
  disk: Disk,
  directory: string,
  options: RaftLogStoreOptions = {},
): Promise<OpenedRaftLogStore> {
  return openRaftLogStore(disk, directory, { logger: silentLogger, ...options });
}

/** A disk under test plus the directory the store lives in, on memory or real files. */
export interface DiskFixture {
  readonly disk: Disk;
  /** The disk when it is a memory disk, which a test can crash. */
  readonly memory: MemoryDisk | undefined;
  readonly directory: string;
  cleanup(): Promise<void>;
}

export async function memoryFixture(options: { readonly writesNow?: boolean } = {}): Promise<DiskFixture> {
  const disk = new MemoryDisk(options);
  await disk.makeDirectory('/data');
  return { disk, memory: disk, directory: '/data/raft', cleanup: async () => {} };
}

export async function nodeFixture(options: NodeDiskOptions = {}): Promise<DiskFixture> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-store-'));
  return {
    disk: new NodeDisk(options),
    memory: undefined,
    directory: path.join(root, 'raft'),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

class FencedError extends MeshError {
  constructor() {
    super('DISK_IO', 'disk view was fenced by a simulated crash');
  }
}

/**
 * Gives each store incarnation its own view of one MemoryDisk. A crash fences the old
 * view, so a store that was running when the power went out cannot touch the disk again.
 */
export class CrashableDisk {
  readonly memory = new MemoryDisk();
  private generation = 0;
  private armed:
    | { syncsToPass: number; random: Random | undefined; tornWriteProbability: number }
    | undefined;
  crashes = 0;

  /** Crashes the disk just as the sync (file or directory) after the next `syncsToPass` ones starts. */
  armCrashAtSync(syncsToPass: number, random?: Random, tornWriteProbability = 0): void {
    this.armed = { syncsToPass, random, tornWriteProbability };
  }

  disarm(): void {
    this.armed = undefined;
  }

  view(): Disk {
    const generation = this.generation;
    const memory = this.memory;
    const check = (): void => {
      if (generation !== this.generation) throw new FencedError();
    };
    const guard =
      <Arguments extends unknown[], Result>(action: (...args: Arguments) => Promise<Result>) =>
      async (...args: Arguments): Promise<Result> => {
        check();
        return action(...args);
      };
    const crashIfDue = (): void => {
      const armed = this.armed;
      if (armed === undefined) return;
      if (armed.syncsToPass === 0) {
        this.crash(armed.random, armed.tornWriteProbability);
        check();
      }
      armed.syncsToPass--;
    };
    const wrapFile = (file: DiskFile): DiskFile => ({
      path: file.path,
      append: guard((data) => file.append(data)),
      writeAt: guard((data, offset) => file.writeAt(data, offset)),
      readAt: guard((offset, length) => file.readAt(offset, length)),
      size: guard(() => file.size()),
      truncate: guard((size) => file.truncate(size)),
      datasync: guard(async () => {
        crashIfDue();
        await file.datasync();
      }),
      close: () => file.close(),
    });
    return {
      open: guard(async (filePath: string, mode: OpenMode) => wrapFile(await memory.open(filePath, mode))),
      readFile: guard((filePath: string) => memory.readFile(filePath)),
      rename: guard((from: string, to: string) => memory.rename(from, to)),
      fsyncDirectory: guard(async (directoryPath: string) => {
        crashIfDue();
        await memory.fsyncDirectory(directoryPath);
      }),
      list: guard((directoryPath: string) => memory.list(directoryPath)),
      remove: guard((filePath: string) => memory.remove(filePath)),
      makeDirectory: guard((directoryPath: string) => memory.makeDirectory(directoryPath)),
      exists: guard((filePath: string) => memory.exists(filePath)),
    };
  }

  crash(random?: Random, tornWriteProbability = 0): void {
    this.armed = undefined;
    this.crashes++;
    this.generation++;
    this.memory.crash(random === undefined ? {} : { random, tornWriteProbability });
  }
}

/** Lets queued promise callbacks run `turns` times, so in-flight writes get part way. */
export async function yieldTurns(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}
