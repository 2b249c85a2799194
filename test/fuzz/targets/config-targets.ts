/**
 * What an operator types and what a node reads back about itself at start: `meshos start`
 * (voter and worker) and `meshos join` flags, parsed in-process, and the data directory's node
 * identity file. Inputs are valid command lines with flags added, replaced and given odd values
 * (negative, huge, not numbers, bad addresses, missing values, values for switches), plus
 * random words; identity files are valid ones damaged. Only typed errors may come out (usage
 * errors, BAD_FLAGS, a MeshError), and a command line that is accepted yields a configuration
 * without NaN or infinite numbers in it.
 */
import fc from 'fast-check';
import { UsageError } from '../../../src/cli/commands/common.js';
import { FlagError } from '../../../src/cli/flag-error.js';
import { joinSettingsFromArguments } from '../../../src/cli/join-command.js';
import { startPlanFromArguments } from '../../../src/cli/node-commands.js';
import { formatAddress, MemoryDisk } from '../../../src/lib/index.js';
import { loadOrCreateIdentity, type NodeIdentity } from '../../../src/mesh/index.js';
import { fuzzTarget } from '../support/fuzz-target.js';
import { decoderInputs } from '../support/mutations.js';

const NODE_FLAGS = [
  'id',
  'name',
  'cluster',
  'data',
  'peers',
  'peer-listen',
  'client-listen',
  'admin-listen',
  'certs',
  'insecure',
  'wal-thread-pool',
  'daemon-module',
  'role',
  'control-plane',
  'control-plane-cacert',
  'control-plane-cert',
  'control-plane-key',
  'zone',
  'capacity',
  'node-lease-ttl',
  'chain-repair-grace-ms',
  'daemon-repair-grace-ms',
  'blob-orphan-grace-ms',
  'daemon-checkpoint-events',
  'chain-segment-bytes',
  'quota-backend-bytes',
  'auto-compaction-mode',
  'auto-compaction-retention',
  'cert-file',
  'key-file',
  'trusted-ca-file',
  'client-cert-auth',
];
const JOIN_FLAGS = ['via', 'no-promote', 'via-cacert', 'via-cert', 'via-key'];
const UNKNOWN_FLAGS = ['help', 'verbose', 'id2', 'peers-listen', ''];

/** Values that trip number, address, list and path parsers. */
const ODD_VALUES = [
  '',
  ' ',
  '0',
  '-1',
  '1',
  '2',
  '007',
  '1.5',
  '1e3',
  '1e309',
  '-0',
  'NaN',
  'Infinity',
  '0x10',
  '9007199254740993',
  '99999999999999999999',
  '127.0.0.1:7001',
  '127.0.0.1:0',
  '127.0.0.1:65536',
  '[::1]:7001',
  '[::1',
  'host',
  'host:',
  ':7001',
  'a:b:c',
  '1=127.0.0.1:7001,2=127.0.0.1:7002',
  '1=127.0.0.1:7001,1=127.0.0.1:7002',
  '=',
  '1=',
  'x=127.0.0.1:1',
  ',,,',
  'voter',
  'worker',
  'learner',
  'periodic',
  'revision',
  'cpu=2,memory=1G',
  'cpu=-1',
  'memory=1Z',
  'cpu=2,cpu=3',
  'cpu',
  '/nonexistent/x',
  'd',
  '--insecure',
  '-',
  '\u0000',
  'é',
  '💥',
  '127.0.0.1:2379,127.0.0.1:2479',
];

const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ODD_VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

type Token = readonly string[];

function flagTokens(names: readonly string[]): fc.Arbitrary<Token> {
  const name = fc.constantFrom(...names, ...UNKNOWN_FLAGS);
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(name, value).map(([flag, text]) => [`--${flag}`, text]) },
    { weight: 2, arbitrary: fc.tuple(name, value).map(([flag, text]) => [`--${flag}=${text}`]) },
    { weight: 2, arbitrary: name.map((flag) => [`--${flag}`]) },
    { weight: 1, arbitrary: fc.constantFrom(['-x'], ['-'], ['--'], ['positional'], ['--no-insecure']) },
  );
}

const VOTER = ['--id', '2', '--data', 'd2', '--peers', '1=127.0.0.1:7001,2=127.0.0.1:7002', '--insecure'];
const WORKER = [
  '--role',
  'worker',
  '--control-plane',
  '127.0.0.1:2379',
  '--data',
  'w',
  '--peer-listen',
  '127.0.0.1:7100',
  '--insecure',
];
const JOIN = ['--via', '127.0.0.1:2379', '--data', 'j', '--peer-listen', '127.0.0.1:7200', '--insecure'];

/** A valid command line with a few pairs dropped and a few flags added at random places. */
function commandLines(
  bases: readonly (readonly string[])[],
  names: readonly string[],
): fc.Arbitrary<string[]> {
  return fc
    .tuple(
      fc.constantFrom(...bases),
      fc.array(fc.nat(), { maxLength: 2 }),
      fc.array(fc.tuple(fc.nat(), flagTokens(names)), { maxLength: 4 }),
    )
    .map(([base, drops, additions]) => {
      const pairs: string[][] = [];
      for (let index = 0; index < base.length; ) {
        const isSwitch = base[index + 1] === undefined || base[index + 1]!.startsWith('--');
        pairs.push(base.slice(index, isSwitch ? index + 1 : index + 2));
        index += isSwitch ? 1 : 2;
      }
      for (const drop of drops) pairs.splice(drop % Math.max(1, pairs.length), 1);
      for (const [at, token] of additions) pairs.splice(at % (pairs.length + 1), 0, [...token]);
      return pairs.flat();
    });
}

/** Every number in an accepted configuration is finite: a NaN let through is a flag not checked. */
function requireFiniteNumbers(what: string, value: unknown, seen = new Set<unknown>()): void {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${what} is ${value}`);
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  for (const [key, inner] of entries) requireFiniteNumbers(`${what}.${String(key)}`, inner, seen);
}

const flagErrors = [UsageError, FlagError];

export const startFlags = fuzzTarget({
  name: 'meshos start flags (voter and worker)',
  fuzzRuns: 40_000,
  inputs: commandLines([VOTER, WORKER], NODE_FLAGS),
  typedErrors: flagErrors,
  check: (argv) => requireFiniteNumbers('start configuration', startPlanFromArguments(argv).config),
});

export const joinFlags = fuzzTarget({
  name: 'meshos join flags',
  fuzzRuns: 20_000,
  inputs: commandLines([JOIN], [...NODE_FLAGS, ...JOIN_FLAGS]),
  typedErrors: flagErrors,
  check: (argv) => requireFiniteNumbers('join settings', joinSettingsFromArguments(argv)),
});

const IDENTITY: NodeIdentity = {
  id: 2,
  name: 'n2',
  clusterId: 'meshos-local',
  initialPeers: [
    [1, { host: '127.0.0.1', port: 7001 }],
    [2, { host: '127.0.0.1', port: 7002 }],
  ],
  role: 'voter',
};
const identityBytes = new TextEncoder().encode(`${JSON.stringify(IDENTITY, null, 2)}\n`);
const identityShapes = fc
  .constantFrom<unknown>(
    null,
    1,
    'x',
    [],
    {},
    { ...IDENTITY, id: '2' },
    { ...IDENTITY, initialPeers: null },
    {
      ...IDENTITY,
      initialPeers: [[1, null]],
    },
    { ...IDENTITY, role: 'learner' },
  )
  .map((shape) => new TextEncoder().encode(JSON.stringify(shape)));

/** The data directory's node.json as the node reads it at start. */
export const identityFiles = fuzzTarget({
  name: 'node identity file (node.json)',
  fuzzRuns: 20_000,
  isAsync: true,
  inputs: fc.oneof(decoderInputs(fc.constant(identityBytes)), identityShapes),
  check: async (bytes) => {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/data');
    const file = await disk.open('/data/node.json', 'create');
    await file.append(bytes);
    await file.close();
    const loaded = await loadOrCreateIdentity(disk, '/data', IDENTITY);
    // What was accepted is what the node goes on to use.
    for (const [, address] of new Map(loaded.initialPeers)) formatAddress(address);
  },
});

export const configTargets = [startFlags, joinFlags, identityFiles];
