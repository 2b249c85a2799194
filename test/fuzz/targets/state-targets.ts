/**
 * Decoders of the replicated state: what a committed log entry holds (node commands, KV
 * commands), the results kept in client sessions, the session table, the cluster configuration
 * stored beside a snapshot, and whole node snapshots (the key-value store, sessions, members) as
 * a follower restores one received in chunks.
 */
import fc from 'fast-check';
import {
  crc32,
  decodeKvCommand,
  decodeKvResult,
  encodeKvCommand,
  KvStateMachine,
} from '../../../src/kv/index.js';
import type { FedTask } from '../../../src/lib/index.js';
import {
  decodeClusterConfig,
  decodeNodeCommand,
  encodeClusterConfig,
  NodeStateMachine,
  SessionTable,
} from '../../../src/server/index.js';
import { kvCommandArbitrary } from '../../support/arbitraries/kv-command.js';
import { fuzzTarget } from '../support/fuzz-target.js';
import { cutAt, decoderInputs } from '../support/mutations.js';
import { nodeCorpus } from '../support/node-corpus.js';

const corpus = nodeCorpus();

export const nodeCommands = fuzzTarget({
  name: 'log entry (node command)',
  fuzzRuns: 100_000,
  inputs: decoderInputs(fc.constantFrom(...corpus.commands)),
  check: (bytes) => {
    decodeNodeCommand(bytes);
  },
});

export const kvCommands = fuzzTarget({
  name: 'KV command',
  fuzzRuns: 60_000,
  inputs: decoderInputs(kvCommandArbitrary.map(encodeKvCommand)),
  check: (bytes) => {
    decodeKvCommand(bytes);
  },
});

export const kvResults = fuzzTarget({
  name: 'KV result (sessions, forwarded answers)',
  fuzzRuns: 50_000,
  inputs: decoderInputs(fc.constantFrom(...corpus.results)),
  check: (bytes) => {
    decodeKvResult(bytes);
  },
});

export const sessionTables = fuzzTarget({
  name: 'session table',
  fuzzRuns: 30_000,
  inputs: decoderInputs(fc.constantFrom(...corpus.sessionTables)),
  check: (bytes) => {
    new SessionTable().restore(bytes);
  },
});

const clusterConfigBytes = fc
  .record({
    voters: fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 5 }),
    learners: fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 3 }),
    outgoingVoters: fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 5 }),
  })
  .map(encodeClusterConfig);

export const clusterConfigs = fuzzTarget({
  name: 'snapshot cluster config',
  fuzzRuns: 30_000,
  inputs: decoderInputs(clusterConfigBytes, 64),
  check: (bytes) => {
    decodeClusterConfig(bytes);
  },
});

/** Most steps a restore may take: far above what any input here needs, so a loop shows as a failure. */
const MAX_RESTORE_STEPS = 100_000;

/** Feeds `parts` as a node does from a snapshot file: a part whenever the task wants bytes, else a step. */
export function runFedTask(task: FedTask<unknown>, parts: readonly Uint8Array[]): void {
  let next = 0;
  for (let steps = 0; steps < MAX_RESTORE_STEPS; steps++) {
    if (task.wantsBytes) {
      // The node asserts the same: a restore may not ask for bytes past the snapshot's end.
      if (next >= parts.length) throw new Error('the restore asked for bytes past the end of its snapshot');
      task.push(parts[next++]!);
      continue;
    }
    if (task.step()) return;
  }
  throw new Error(`restore still running after ${MAX_RESTORE_STEPS} steps`);
}

export const nodeSnapshots = fuzzTarget({
  name: 'node snapshot (KV, sessions, members, auth)',
  fuzzRuns: 60_000,
  inputs: fc.tuple(
    decoderInputs(fc.constantFrom(...corpus.snapshots), 512),
    fc.array(fc.nat(), { maxLength: 5 }),
  ),
  check: ([bytes, cuts]) => {
    const machine = new NodeStateMachine();
    runFedTask(machine.startRestoreFrom(bytes.byteLength), cutAt(bytes, cuts));
  },
});

/** The snapshot with its trailing CRC-32 made right again, so damage reaches the decoder's later steps. */
function withChecksum(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < 4) return bytes;
  const fixed = bytes.slice();
  const body = fixed.subarray(0, fixed.byteLength - 4);
  new DataView(fixed.buffer).setUint32(fixed.byteLength - 4, crc32(body));
  return fixed;
}

export const kvSnapshots = fuzzTarget({
  name: 'KV store snapshot',
  fuzzRuns: 60_000,
  inputs: fc.tuple(
    decoderInputs(fc.constantFrom(...corpus.kvSnapshots), 512),
    fc.boolean(),
    fc.array(fc.nat(), { maxLength: 5 }),
  ),
  check: ([bytes, fixChecksum, cuts]) => {
    const snapshot = fixChecksum ? withChecksum(bytes) : bytes;
    const machine = new KvStateMachine();
    runFedTask(machine.startRestoreFrom(snapshot.byteLength, { keys: 3, bytes: 64 }), cutAt(snapshot, cuts));
  },
});

export const stateTargets = [
  kvSnapshots,
  nodeCommands,
  kvCommands,
  kvResults,
  sessionTables,
  clusterConfigs,
  nodeSnapshots,
];
