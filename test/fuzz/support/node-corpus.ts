/**
 * Valid encodings made by running a real node state machine: log entries (node commands), their
 * results, session tables and node snapshots at several sizes. The fuzzers mutate these; making
 * them once keeps every input cheap.
 */
import fc from 'fast-check';
import type { AuthCommand } from '../../../src/auth/index.js';
import { encodeKvResult } from '../../../src/kv/index.js';
import { encodeNodeCommand, type NodeCommand, NodeStateMachine } from '../../../src/server/index.js';
import { kvCommandArbitrary } from '../../support/arbitraries/kv-command.js';

export interface NodeCorpus {
  readonly commands: readonly Uint8Array[];
  readonly results: readonly Uint8Array[];
  readonly sessionTables: readonly Uint8Array[];
  /** Node snapshots (header, key-value store, sessions, members), smallest first. */
  readonly snapshots: readonly Uint8Array[];
  /** The key-value store's own snapshots (the node snapshot's largest section). */
  readonly kvSnapshots: readonly Uint8Array[];
}

const CORPUS_SEED = 19;
const COMMANDS = 240;
const SNAPSHOT_EVERY = 40;

function nodeCommands(): NodeCommand[] {
  const kvCommands = fc.sample(kvCommandArbitrary, { numRuns: COMMANDS, seed: CORPUS_SEED });
  return kvCommands.map((command, index): NodeCommand => {
    if (index % 17 === 5) {
      return {
        type: 'setMember',
        member: {
          id: index + 1,
          name: `node-${index}`,
          peerUrls: [`https://127.0.0.1:${2380 + index}`],
          clientUrls: [],
        },
      };
    }
    if (index % 29 === 7) return { type: 'removeMember', id: index };
    const auth = authCommands[index % 37];
    if (auth !== undefined) return { type: 'auth', command: auth };
    if (index % 11 === 4) return { type: 'kv', command, user: index % 2 === 0 ? 'root' : 'reader' };
    if (index % 3 === 0)
      return { type: 'kv', command, session: { clientId: `client-${index % 5}`, sequence: index + 1 } };
    return { type: 'kv', command };
  });
}

/** Users, a role with a key range, then auth switched on: the snapshot's auth section is not empty. */
const authCommands: readonly (AuthCommand | undefined)[] = [
  undefined,
  { type: 'userAdd', name: 'root', passwordHash: 'scrypt$00$00' },
  { type: 'roleAdd', name: 'root' },
  { type: 'userGrantRole', name: 'root', role: 'root' },
  { type: 'userAdd', name: 'reader' },
  { type: 'roleAdd', name: 'app-reader' },
  {
    type: 'roleGrantPermission',
    name: 'app-reader',
    permission: { type: 'read', key: 'app/', rangeEnd: 'app0' },
  },
  { type: 'userGrantRole', name: 'reader', role: 'app-reader' },
  { type: 'authEnable', tokenSecret: '00112233445566778899aabbccddeeff' },
];

let corpus: NodeCorpus | undefined;

export function nodeCorpus(): NodeCorpus {
  if (corpus !== undefined) return corpus;
  const machine = new NodeStateMachine();
  const commands: Uint8Array[] = [];
  const results: Uint8Array[] = [];
  const sessionTables: Uint8Array[] = [];
  const snapshots: Uint8Array[] = [machine.snapshot()];
  const kvSnapshots: Uint8Array[] = [machine.kv.snapshot()];
  for (const [position, command] of nodeCommands().entries()) {
    const data = encodeNodeCommand(command);
    commands.push(data);
    const result = machine.apply({ index: position + 1, term: 1, kind: 'normal', data });
    if (result !== undefined) results.push(encodeKvResult(result));
    if ((position + 1) % SNAPSHOT_EVERY === 0) {
      snapshots.push(machine.snapshot());
      kvSnapshots.push(machine.kv.snapshot());
      sessionTables.push(machine.sessions.snapshot());
    }
  }
  corpus = { commands, results, sessionTables, snapshots, kvSnapshots };
  return corpus;
}
