/**
 * Torn-write recovery loses nothing acknowledged. A random run of writes goes to the Raft store
 * and to a chain log on a disk that stops at a random sync (an append in flight); the crash
 * keeps what was synced and damages each file's unsynced tail (gone, cut, zero-filled, final
 * record garbled). Reopened, the store must hold every acknowledged record exactly, in order, and
 * of the write in flight nothing or a whole prefix, and must take new appends. Damage no crash
 * makes (a zeroed hole or flipped bytes before the tail's end) may instead stop the open with a
 * typed error. A byte flipped in synced data must stop the open with a typed error, except in
 * the log's final record, where it cannot be told from a torn write (docs/SECURITY.md).
 */
import fc from 'fast-check';
import { openChainLog } from '../../../src/chains/chain-log.js';
import type { ChainEntry } from '../../../src/chains/index.js';
import { isMeshError, MemoryDisk } from '../../../src/lib/index.js';
import { silentLogger } from '../../../src/lib/node/index.js';
import { parseSnapshotFileName } from '../../../src/store/file-names.js';
import {
  EMPTY_HARD_STATE,
  openRaftLogStore,
  parseSegmentFileName,
  type RecoveredState,
  type StoredEntry,
  type StoredHardState,
} from '../../../src/store/index.js';
import { crashImage, HaltingDisk, type TailDamage, tailDamageArbitrary } from '../support/crash-disk.js';
import { type DirectoryImage, recordSpans, writeImage } from '../support/directory-image.js';
import { fuzzTarget } from '../support/fuzz-target.js';
import { checkRecoveredLog, type InFlight, payloadOf, sameBytes } from '../support/log-history.js';
import { chainLogOptions } from './disk-targets.js';

const DIRECTORY = '/data/dir';
const SEGMENT_BYTES = 1024;

/** Runs a recovery whose contract is to succeed: a typed error here is lost data, so it fails the run. */
async function mustRecover<T>(what: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (!isMeshError(error)) throw error;
    throw new Error(`${what}: a crash left the store unopenable (${error.code}: ${error.message})`);
  }
}

async function freshDisk(image: DirectoryImage): Promise<MemoryDisk> {
  const disk = new MemoryDisk();
  await disk.makeDirectory('/data');
  await writeImage(disk, DIRECTORY, image);
  return disk;
}

/** Writes on a disk that halts at `haltAtSync`, crashes it and puts the damaged image on a fresh disk. */
async function crashed<Outcome>(
  haltAtSync: number,
  damages: readonly TailDamage[],
  write: (disk: HaltingDisk) => Promise<Outcome>,
) {
  const memory = new MemoryDisk();
  await memory.makeDirectory('/data');
  const disk = new HaltingDisk(memory, haltAtSync);
  const outcome = await write(disk);
  const { image, crashOnly } = await crashImage(disk, DIRECTORY, damages);
  return { outcome, image, crashOnly, reopened: await freshDisk(image) };
}

/** A run of steps, the sync the power goes at, and what the crash does to each unsynced tail. */
function crashInputs<Step>(step: fc.Arbitrary<Step>, maxHaltAtSync: number) {
  return fc.record({
    steps: fc.array(step, { minLength: 1, maxLength: 16 }),
    haltAtSync: fc.integer({ min: 1, max: maxHaltAtSync }),
    damages: fc.array(tailDamageArbitrary, { minLength: 1, maxLength: 3 }),
  });
}

/** A run of steps written and synced whole, then one byte of one file flipped. */
function flipInputs<Step>(step: fc.Arbitrary<Step>) {
  return fc.record({
    steps: fc.array(step, { minLength: 1, maxLength: 12 }),
    file: fc.nat(),
    at: fc.nat(),
    bit: fc.nat(7),
  });
}

// ---------------------------------------------------------------- the Raft store

interface RaftStep {
  /** How far before the log's end the append starts (over a conflicting tail). */
  readonly back: number;
  readonly count: number;
  readonly newTerm: boolean;
  readonly size: number;
  readonly hardState: boolean;
  /** Then save a snapshot at the commit index and compact the log through it. */
  readonly snapshot: boolean;
}

interface RaftModel {
  readonly log: readonly StoredEntry[];
  readonly hardState: StoredHardState;
  /** Index of the newest snapshot saved, 0 for none. */
  readonly snapshotIndex: number;
}

const raftStep: fc.Arbitrary<RaftStep> = fc.record({
  back: fc.nat(3),
  count: fc.integer({ min: 1, max: 4 }),
  newTerm: fc.boolean(),
  size: fc.nat(300),
  hardState: fc.boolean(),
  snapshot: fc.nat(5).map((draw) => draw === 0),
});

const raftStoreOptions = { segmentSizeBytes: SEGMENT_BYTES, logger: silentLogger };

function nextRaftModel(model: RaftModel, step: RaftStep, stepNumber: number) {
  // As Raft does: a conflicting tail is replaced only above the commit index, which never falls.
  const first = Math.max(model.hardState.commit + 1, model.log.length + 1 - step.back);
  const term = Math.max(1, model.hardState.term + (step.newTerm ? 1 : 0));
  const entries: StoredEntry[] = [];
  for (let index = first; index < first + step.count; index++) {
    entries.push({
      index,
      term,
      kind: index % 3,
      data: payloadOf(`${index}:${term}:${stepNumber}`, step.size),
    });
  }
  const log = [...model.log.slice(0, first - 1), ...entries];
  const hardState = step.hardState
    ? {
        term,
        vote: 1 + (term % 3),
        commit: Math.max(model.hardState.commit, Math.min(log.length, model.hardState.commit + 1)),
      }
    : undefined;
  const next: RaftModel = {
    log,
    hardState: hardState ?? model.hardState,
    snapshotIndex: model.snapshotIndex,
  };
  return { entries, hardState, next, floor: first - 1 };
}

const sameEntry = (a: StoredEntry, b: StoredEntry) =>
  a.index === b.index && a.term === b.term && a.kind === b.kind && sameBytes(a.data, b.data);

const sameHardState = (a: StoredHardState, b: StoredHardState) =>
  a.term === b.term && a.vote === b.vote && a.commit === b.commit;

/** A snapshot's data: recognisable by its index. */
const snapshotData = (index: number) => payloadOf(`snapshot ${index}`, 64);

type RaftInFlight = InFlight<StoredEntry> & { hardState: StoredHardState; snapshotIndex: number };

/** Writes the steps until the disk halts; returns what was acknowledged and what was in flight. */
async function runRaftSteps(disk: HaltingDisk, steps: readonly RaftStep[]) {
  let acknowledged: RaftModel = { log: [], hardState: EMPTY_HARD_STATE, snapshotIndex: 0 };
  let inFlight: RaftInFlight | undefined;
  const opened = await disk.race(openRaftLogStore(disk, DIRECTORY, raftStoreOptions));
  if (!opened.done) return { acknowledged, inFlight };
  const { store } = opened.value;
  for (const [stepNumber, step] of steps.entries()) {
    const { entries, hardState, next, floor } = nextRaftModel(acknowledged, step, stepNumber);
    const written = await disk.race(store.append(entries, hardState));
    if (!written.done) {
      inFlight = { log: next.log, floor, hardState: next.hardState, snapshotIndex: next.snapshotIndex };
      break;
    }
    acknowledged = next;
    const index = acknowledged.hardState.commit;
    if (!step.snapshot || index <= acknowledged.snapshotIndex) continue;
    const term = acknowledged.log[index - 1]!.term;
    const snapshot = { index, term, config: Uint8Array.of(1), data: snapshotData(index) };
    const saved = await disk.race(store.saveSnapshot(snapshot).then(() => store.compact(index)));
    if (!saved.done) {
      const log = acknowledged.log;
      inFlight = { log, floor: log.length, hardState: acknowledged.hardState, snapshotIndex: index };
      break;
    }
    acknowledged = { ...acknowledged, snapshotIndex: index };
  }
  return { acknowledged, inFlight };
}

/**
 * The whole log a recovery gives back: the acknowledged entries its snapshot covers (the snapshot
 * checked against them) and the entries after it. Throws when the snapshot is not one saved.
 */
function recoveredLog(
  what: string,
  recovered: RecoveredState,
  acknowledged: RaftModel,
  inFlight: RaftInFlight | undefined,
): StoredEntry[] {
  const snapshot = recovered.snapshot;
  const index = snapshot?.index ?? 0;
  if (index !== acknowledged.snapshotIndex && index !== inFlight?.snapshotIndex) {
    throw new Error(`${what}: recovered a snapshot at ${index}, which was never saved`);
  }
  if (snapshot !== undefined) {
    const covered = acknowledged.log[index - 1];
    if (covered?.term !== snapshot.term || !sameBytes(snapshot.data, snapshotData(index))) {
      throw new Error(`${what}: the snapshot at ${index} is not the one saved`);
    }
  }
  return [...acknowledged.log.slice(0, index), ...recovered.entries];
}

export const raftStoreCrashes = fuzzTarget({
  name: 'Raft store: crash with a torn tail loses nothing acknowledged',
  fuzzRuns: 40_000,
  isAsync: true,
  inputs: crashInputs(raftStep, 50),
  check: async ({ steps, haltAtSync, damages }) => {
    const { outcome, crashOnly, reopened } = await crashed(haltAtSync, damages, (disk) =>
      runRaftSteps(disk, steps),
    );
    const { acknowledged, inFlight } = outcome;
    const open = () => openRaftLogStore(reopened, DIRECTORY, raftStoreOptions);
    // Damage beyond a crash's may be refused, with a typed error (which the fuzz target allows).
    const { store, recovered } = crashOnly ? await mustRecover('Raft store', open) : await open();
    const log = recoveredLog('Raft store', recovered, acknowledged, inFlight);
    checkRecoveredLog('Raft store', log, acknowledged.log, inFlight, sameEntry);
    const hardStateAllowed =
      sameHardState(recovered.hardState, acknowledged.hardState) ||
      (inFlight !== undefined && sameHardState(recovered.hardState, inFlight.hardState));
    if (!hardStateAllowed) {
      throw new Error(
        `Raft store: recovered hard state ${JSON.stringify(recovered.hardState)} was never written`,
      );
    }
    // The store carries on: one more entry, then a clean reopen finds it after the rest.
    const index = log.length + 1;
    const added: StoredEntry = {
      index,
      term: Math.max(1, recovered.hardState.term),
      kind: 0,
      data: payloadOf(`after ${index}`, 20),
    };
    await store.append([added]);
    await store.close();
    const again = await mustRecover('Raft store after the append', open);
    await again.store.close();
    const afterAppend = { ...acknowledged, snapshotIndex: recovered.snapshot?.index ?? 0 };
    const logAfterAppend = recoveredLog(
      'Raft store after the append',
      again.recovered,
      afterAppend,
      undefined,
    );
    checkRecoveredLog('Raft store after the append', logAfterAppend, [...log, added], undefined, sameEntry);
  },
});

/** A byte of a file the store had synced and closed, flipped: found and refused, never dropped silently. */
export const raftStoreSyncedCorruption = fuzzTarget({
  name: 'Raft store: a flipped synced byte is refused, not dropped',
  fuzzRuns: 20_000,
  isAsync: true,
  inputs: flipInputs(raftStep),
  check: async ({ steps, file, at, bit }) => {
    const { outcome, image } = await crashed(Number.POSITIVE_INFINITY, [], (disk) =>
      runRaftSteps(disk, steps),
    );
    const { acknowledged } = outcome;
    const flipped = flipByte(image, file, at, bit);
    if (flipped === undefined) return;
    const reopened = await freshDisk(flipped.image);
    // Throws the typed refusal this target expects; anything recovered is checked below.
    const { store, recovered } = await openRaftLogStore(reopened, DIRECTORY, raftStoreOptions);
    await store.close();
    const where = `Raft store, ${flipped.name} byte ${flipped.offset} flipped`;
    const flippedSnapshot = parseSnapshotFileName(flipped.name);
    const spareSnapshot = flippedSnapshot !== undefined && flippedSnapshot !== recovered.snapshot?.index;
    // A skipped snapshot is noticed; an older spare one is not read at all while the newest is good.
    if (recovered.skippedSnapshots.length > 0 || spareSnapshot) {
      // The snapshot used (an older one, or none) and the log must still hold it all.
      const log = [...acknowledged.log.slice(0, recovered.snapshot?.index ?? 0), ...recovered.entries];
      checkRecoveredLog(where, log, acknowledged.log, undefined, sameEntry);
      return;
    }
    requireFinalRecord(image, flipped, 'Raft store');
    // The final record may be cut as a torn write (it was the newest); nothing before it may go.
    const log = recoveredLog(where, recovered, acknowledged, undefined);
    const floor = Math.max(0, acknowledged.log.length - 1);
    checkRecoveredLog(where, log, acknowledged.log, { log: acknowledged.log, floor }, sameEntry);
  },
});

/**
 * A store that opened over a flipped byte must have had it in the final record of its last
 * segment, the one place a flip looks like a torn write.
 */
function requireFinalRecord(
  image: DirectoryImage,
  flipped: NonNullable<ReturnType<typeof flipByte>>,
  what: string,
): void {
  const lastSegment = image.filter((entry) => parseSegmentFileName(entry.name) !== undefined).at(-1);
  if (flipped.name !== lastSegment?.name || !flipped.inFinalFrame) {
    throw new Error(
      `${what}: ${flipped.name} byte ${flipped.offset} flipped and the store opened without noticing`,
    );
  }
}

function flipByte(image: DirectoryImage, file: number, at: number, bit: number) {
  const candidates = image.filter((entry) => entry.bytes.byteLength > 0);
  const chosen = candidates[file % Math.max(1, candidates.length)];
  if (chosen === undefined) return undefined;
  const offset = at % chosen.bytes.byteLength;
  const bytes = chosen.bytes.slice();
  bytes[offset]! ^= 1 << bit;
  const finalStart = recordSpans(chosen.bytes).at(-1)?.start ?? 0;
  return {
    name: chosen.name,
    offset,
    inFinalFrame: offset >= finalStart,
    image: image.map((entry) => (entry === chosen ? { name: entry.name, bytes } : entry)),
  };
}

// ---------------------------------------------------------------- a chain log

type ChainStep =
  | { readonly kind: 'append'; readonly count: number; readonly newEpoch: boolean; readonly size: number }
  | { readonly kind: 'truncate'; readonly back: number }
  | { readonly kind: 'promise' };

interface ChainModel {
  readonly log: readonly ChainEntry[];
  readonly promised: number;
}

const chainStep: fc.Arbitrary<ChainStep> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      count: fc.integer({ min: 1, max: 4 }),
      newEpoch: fc.boolean(),
      size: fc.nat(300),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('promise' as const) }) },
);

function chainEntries(model: ChainModel, step: Extract<ChainStep, { kind: 'append' }>, stepNumber: number) {
  const lastEpoch = model.log.at(-1)?.epoch ?? 0;
  const entries: ChainEntry[] = [];
  for (let position = 0; position < step.count; position++) {
    const offset = model.log.length + position;
    const startsEpoch = position === 0 && (step.newEpoch || lastEpoch === 0);
    const epoch = lastEpoch + (startsEpoch ? 1 : 0);
    entries.push({
      offset,
      epoch: Math.max(1, epoch),
      kind: startsEpoch ? 'epoch-start' : 'data',
      appendedAtMs: 1_000 + offset,
      payload: payloadOf(`${offset}:${stepNumber}`, step.size),
    });
  }
  return entries;
}

const sameChainEntry = (a: ChainEntry, b: ChainEntry) =>
  a.offset === b.offset &&
  a.epoch === b.epoch &&
  a.kind === b.kind &&
  a.appendedAtMs === b.appendedAtMs &&
  sameBytes(a.payload, b.payload);

async function readWholeChain(log: Awaited<ReturnType<typeof openChainLog>>): Promise<ChainEntry[]> {
  const entries: ChainEntry[] = [];
  for (let offset = log.startOffset; offset < log.endOffset; ) {
    const read = await log.read(offset, 64, 1 << 20);
    if (read.length === 0)
      throw new Error(`chain log: read at ${offset} of ${log.endOffset} returned nothing`);
    entries.push(...read);
    offset = read.at(-1)!.offset + 1;
  }
  return entries;
}

/** Writes the steps until the disk halts; returns what was acknowledged and what was in flight. */
async function runChainSteps(disk: HaltingDisk, steps: readonly ChainStep[]) {
  let acknowledged: ChainModel = { log: [], promised: 0 };
  let inFlight: (InFlight<ChainEntry> & { promised: number }) | undefined;
  const opened = await disk.race(openChainLog(disk, DIRECTORY, chainLogOptions()));
  if (!opened.done) return { acknowledged, inFlight };
  const log = opened.value;
  for (const [stepNumber, step] of steps.entries()) {
    let next: ChainModel = acknowledged;
    let floor = acknowledged.log.length;
    if (step.kind === 'append') {
      const entries = chainEntries(acknowledged, step, stepNumber);
      log.append(entries);
      next = { log: [...acknowledged.log, ...entries], promised: acknowledged.promised };
    } else if (step.kind === 'truncate') {
      floor = Math.max(0, acknowledged.log.length - step.back);
      log.truncateFrom(floor);
      next = { log: acknowledged.log.slice(0, floor), promised: acknowledged.promised };
    } else {
      log.setPromisedEpoch(acknowledged.promised + 1);
      next = { log: acknowledged.log, promised: acknowledged.promised + 1 };
    }
    const synced = await disk.race(log.durable());
    if (!synced.done) {
      inFlight = { log: next.log, floor, promised: next.promised };
      break;
    }
    acknowledged = next;
  }
  return { acknowledged, inFlight };
}

export const chainLogCrashes = fuzzTarget({
  name: 'chain log: crash with a torn tail loses nothing acknowledged',
  fuzzRuns: 40_000,
  isAsync: true,
  inputs: crashInputs(chainStep, 40),
  check: async ({ steps, haltAtSync, damages }) => {
    const { outcome, crashOnly, reopened } = await crashed(haltAtSync, damages, (disk) =>
      runChainSteps(disk, steps),
    );
    const { acknowledged, inFlight } = outcome;
    const open = () => openChainLog(reopened, DIRECTORY, chainLogOptions());
    const log = crashOnly ? await mustRecover('chain log', open) : await open();
    const recovered = await readWholeChain(log);
    checkRecoveredLog('chain log', recovered, acknowledged.log, inFlight, sameChainEntry);
    const promiseAllowed =
      log.promisedEpoch === acknowledged.promised || log.promisedEpoch === inFlight?.promised;
    if (!promiseAllowed) throw new Error(`chain log: recovered promise ${log.promisedEpoch} was never made`);
    // The log carries on: one more record, then a clean reopen finds it after the rest.
    const [added] = chainEntries(
      { log: recovered, promised: 0 },
      { kind: 'append', count: 1, newEpoch: false, size: 20 },
      99,
    );
    log.append([added!]);
    await log.durable();
    await log.close();
    const again = await mustRecover('chain log after the append', open);
    const afterAppend = await readWholeChain(again);
    await again.close();
    checkRecoveredLog(
      'chain log after the append',
      afterAppend,
      [...recovered, added!],
      undefined,
      sameChainEntry,
    );
  },
});

/** A byte of a chain log file synced and closed, flipped: found and refused, never dropped silently. */
export const chainLogSyncedCorruption = fuzzTarget({
  name: 'chain log: a flipped synced byte is refused, not dropped',
  fuzzRuns: 20_000,
  isAsync: true,
  inputs: flipInputs(chainStep),
  check: async ({ steps, file, at, bit }) => {
    const { outcome, image } = await crashed(Number.POSITIVE_INFINITY, [], (disk) =>
      runChainSteps(disk, steps),
    );
    const { acknowledged } = outcome;
    const flipped = flipByte(image, file, at, bit);
    if (flipped === undefined) return;
    const reopened = await freshDisk(flipped.image);
    // Throws the typed refusal this target expects; anything recovered is checked below.
    const log = await openChainLog(reopened, DIRECTORY, chainLogOptions());
    const recovered = await readWholeChain(log);
    await log.close();
    requireFinalRecord(image, flipped, 'chain log');
    const floor = Math.max(0, acknowledged.log.length - 1);
    const where = `chain log, ${flipped.name} byte ${flipped.offset} flipped`;
    checkRecoveredLog(where, recovered, acknowledged.log, { log: acknowledged.log, floor }, sameChainEntry);
  },
});

export const crashTargets = [
  raftStoreCrashes,
  raftStoreSyncedCorruption,
  chainLogCrashes,
  chainLogSyncedCorruption,
];
