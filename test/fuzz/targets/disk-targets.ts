/**
 * What a node reads back from its disk at start: the Raft store's directory (write-ahead log
 * segments with torn tails, the hard state file, snapshot files) and a chain replica's directory
 * (segments of CRC-32C records, the promise file, the offset index rebuilt from them). Valid
 * directories are written by the real store and chain log; the fuzzers damage them and open them
 * through the real recovery path, on the in-memory disk (most inputs) and on real files in a
 * temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { openChainLog } from '../../../src/chains/chain-log.js';
import type { ChainEntry } from '../../../src/chains/index.js';
import { type Disk, ManualClock, MemoryDisk } from '../../../src/lib/index.js';
import { NodeDisk, silentLogger } from '../../../src/lib/node/index.js';
import { encodeClusterConfig } from '../../../src/server/index.js';
import { fromStoredEntry, fromStoredSnapshot } from '../../../src/server/raft-records.js';
import { openRaftLogStore, type StoredEntry } from '../../../src/store/index.js';
import { type DirectoryImage, damagedImages, readImage, writeImage } from '../support/directory-image.js';
import { fuzzTarget } from '../support/fuzz-target.js';
import { nodeCorpus } from '../support/node-corpus.js';

const DIRECTORY = '/data/dir';
const SEGMENT_BYTES = 1024;

function storeEntry(index: number, term: number): StoredEntry {
  const commands = nodeCorpus().commands;
  return { index, term, kind: index % 7 === 0 ? 1 : 0, data: commands[index % commands.length]! };
}

/** Raft store directories: entries across small segments, truncations, snapshots, compaction. */
async function storeImages(): Promise<DirectoryImage[]> {
  const images: DirectoryImage[] = [];
  const snapshotData = nodeCorpus().snapshots.at(-1)!;
  const config = encodeClusterConfig({ voters: [1, 2, 3], learners: [4], outgoingVoters: [] });
  for (const withSnapshot of [false, true]) {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/data');
    const { store } = await openRaftLogStore(disk, DIRECTORY, {
      segmentSizeBytes: SEGMENT_BYTES,
      logger: silentLogger,
    });
    for (let index = 1; index <= 40; index++) {
      await store.append([storeEntry(index, index > 20 ? 2 : 1)], {
        term: index > 20 ? 2 : 1,
        vote: 1,
        commit: index - 1,
      });
    }
    await store.truncateSuffix(36);
    await store.append([storeEntry(36, 3), storeEntry(37, 3)], { term: 3, vote: 2, commit: 35 });
    if (withSnapshot) {
      await store.saveSnapshot({ index: 30, term: 2, config, data: snapshotData });
      await store.compact(30);
      await store.append([storeEntry(38, 3)], { term: 3, vote: 2, commit: 37 });
    }
    await store.close();
    images.push(await readImage(disk, DIRECTORY));
  }
  return images;
}

function chainEntry(offset: number, epoch: number): ChainEntry {
  const payload = new TextEncoder().encode(`record ${offset} `.repeat(1 + (offset % 9)));
  return {
    offset,
    epoch,
    kind: offset === 0 ? 'epoch-start' : 'data',
    appendedAtMs: 1_000 + offset,
    payload,
  };
}

export function chainLogOptions() {
  return {
    sync: { mode: 'batch' as const },
    retention: {},
    clock: new ManualClock(),
    segmentBytes: SEGMENT_BYTES,
    logger: silentLogger,
  };
}

/** Chain replica directories: records of three epochs over several segments, a promise file. */
async function chainImages(): Promise<DirectoryImage[]> {
  const disk = new MemoryDisk();
  await disk.makeDirectory('/data');
  const log = await openChainLog(disk, DIRECTORY, chainLogOptions());
  for (let offset = 0; offset < 60; offset++) log.append([chainEntry(offset, 1 + Math.floor(offset / 25))]);
  log.setPromisedEpoch(3);
  log.truncateFrom(55);
  await log.durable();
  await log.close();
  return [await readImage(disk, DIRECTORY)];
}

const storeCorpus = await storeImages();
const chainCorpus = await chainImages();

/** Opens a Raft store as a node does at start, reads what it recovered as the node would, and closes it. */
async function openStore(disk: Disk, directory: string, image: DirectoryImage): Promise<void> {
  await writeImage(disk, directory, image);
  const { store, recovered } = await openRaftLogStore(disk, directory, {
    segmentSizeBytes: SEGMENT_BYTES,
    logger: silentLogger,
  });
  try {
    recovered.entries.map(fromStoredEntry);
    if (recovered.snapshot !== undefined) {
      fromStoredSnapshot(recovered.snapshot);
      // The chunk reader a leader sends a snapshot to followers with.
      await store.readSnapshotData(
        recovered.snapshot.index,
        0,
        Math.min(64, recovered.snapshot.data.byteLength),
      );
    }
  } finally {
    await store.close();
  }
}

/** Opens a chain log as a replica does, reads every record through its offset index, and closes it. */
async function openChain(disk: Disk, directory: string, image: DirectoryImage): Promise<void> {
  await writeImage(disk, directory, image);
  const log = await openChainLog(disk, directory, chainLogOptions());
  try {
    for (let offset = log.startOffset; offset < log.endOffset; ) {
      const read = await log.read(offset, 7, 4096);
      if (read.length === 0) throw new Error(`read at ${offset} of ${log.endOffset} returned nothing`);
      offset = read.at(-1)!.offset + 1;
    }
  } finally {
    await log.close();
  }
}

type OpenDirectory = (disk: Disk, directory: string, image: DirectoryImage) => Promise<void>;

async function inMemory(open: OpenDirectory, image: DirectoryImage): Promise<void> {
  const disk = new MemoryDisk();
  await disk.makeDirectory('/data');
  await open(disk, DIRECTORY, image);
}

/** On real files: a directory under the system's temporary one, removed afterwards. */
async function onRealFiles(open: OpenDirectory, image: DirectoryImage): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-fuzz-'));
  try {
    await open(new NodeDisk(), path.join(root, 'dir'), image);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export const raftStoreDirectories = fuzzTarget({
  name: 'Raft store directory (WAL, hard state, snapshots)',
  fuzzRuns: 60_000,
  isAsync: true,
  inputs: damagedImages(storeCorpus),
  check: (image) => inMemory(openStore, image),
});

export const chainLogDirectories = fuzzTarget({
  name: 'chain log directory (segments, promise, index)',
  fuzzRuns: 60_000,
  isAsync: true,
  inputs: damagedImages(chainCorpus),
  check: (image) => inMemory(openChain, image),
});

export const raftStoreOnFiles = fuzzTarget({
  name: 'Raft store directory on real files',
  fuzzRuns: 3_000,
  isAsync: true,
  inputs: damagedImages(storeCorpus),
  check: (image) => onRealFiles(openStore, image),
});

export const chainLogOnFiles = fuzzTarget({
  name: 'chain log directory on real files',
  fuzzRuns: 3_000,
  isAsync: true,
  inputs: damagedImages(chainCorpus),
  check: (image) => onRealFiles(openChain, image),
});

export const diskTargets = [raftStoreDirectories, chainLogDirectories, raftStoreOnFiles, chainLogOnFiles];
