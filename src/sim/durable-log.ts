import { type Clock, MemoryDisk } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import { openRaftLogStore, type StoredEntry } from '../store/index.js';
import type { DurableLog } from './invariants.js';

/** FNV-1a over an entry's term, kind and data, to compare entries across nodes cheaply. */
function storedEntryHash(entry: StoredEntry): number {
  let hash = Math.imul(0x811c9dc5 ^ entry.term, 0x01000193);
  hash = Math.imul(hash ^ entry.kind, 0x01000193);
  const data = entry.data;
  for (let index = 0; index < data.length; index++) hash = Math.imul(hash ^ data[index]!, 0x01000193);
  return hash >>> 0;
}

/**
 * The data directory's files, read in one go: the node keeps writing meanwhile, so a file
 * that vanished between listing and reading (a compacted segment, a renamed snapshot) starts
 * the read over.
 */
async function copyFiles(disk: MemoryDisk, directory: string): Promise<Map<string, StoredFile>> {
  for (;;) {
    const names = await disk.list(directory);
    const paths = names.map((name) => `${directory}/${name}`);
    // Every readStored runs its body at the call, so these see one state of the disk. Stored
    // bytes only: a preallocated segment's zeros are not copied.
    const reads = paths.map((filePath) => disk.readStored(filePath));
    const settled = await Promise.allSettled(reads);
    if (settled.every((result) => result.status === 'fulfilled')) {
      return new Map(
        paths.map((filePath, index) => [
          filePath,
          (settled[index] as PromiseFulfilledResult<StoredFile>).value,
        ]),
      );
    }
  }
}

type StoredFile = Awaited<ReturnType<MemoryDisk['readStored']>>;

/**
 * Reads a node's log as its disk holds it right now, through the store's own recovery run
 * on a copy of the data directory (the node's files are never touched).
 */
export async function readDurableLog(disk: MemoryDisk, directory: string, clock: Clock): Promise<DurableLog> {
  const copy = new MemoryDisk();
  await copy.makeDirectory(directory);
  for (const [filePath, stored] of await copyFiles(disk, directory)) {
    const file = await copy.open(filePath, 'create');
    await file.append(stored.bytes);
    await file.truncate(stored.size);
    await file.close();
  }
  const { store, recovered } = await openRaftLogStore(copy, directory, { clock, logger: silentLogger });
  await store.close();
  const snapshotIndex = recovered.snapshot?.index ?? 0;
  const entries = recovered.entries;
  return {
    snapshotIndex,
    firstIndex: entries[0]?.index ?? snapshotIndex + 1,
    terms: entries.map((entry) => entry.term),
    hashes: entries.map(storedEntryHash),
  };
}
