import { createPublicKey, sign, verify } from 'node:crypto';
import type { Clock } from '../../lib/index.js';
import { describeValue, InputProblems, isRecord, MeshError } from '../../lib/index.js';
import { type ChainEntry, genesisLink, hashLink } from '../causal.js';
import { EMPTY_STATE } from '../daemon.js';
import { DaemonNotFoundError } from '../errors.js';
import { type DaemonHostConfig, hostConfigProblems } from '../host.js';
import { deriveSeed, ED25519_PUBLIC_KEY_BYTES, GROUP_SEED_BYTES, memberIdentity } from '../identity.js';
import type { DaemonRuntime } from '../runtime.js';
import { groupTargetProblems } from './common.js';

/**
 * Links a forked daemon's new chain to its parent's chain at the fork point: the parent's
 * sequence and chain head (the hash of the parent's link at that sequence) and the child's
 * genesis hash, signed by the parent's key.
 */
export interface ForkRecord {
  readonly parentOrigin: bigint;
  readonly parentSequence: number;
  readonly parentChainHead: bigint;
  readonly parentInboundThrough: number;
  readonly childOrigin: bigint;
  readonly childGenesisHash: bigint;
  readonly forkIndex: number;
  readonly createdAtMs: number;
  /** ed25519 signature by the parent over `forkRecordBytes(record)`. */
  readonly signature: Uint8Array;
}

export class ForkRecordError extends MeshError {
  constructor(reason: string) {
    super('FORK_RECORD_INVALID', `fork record does not verify: ${reason}`, { details: { reason } });
  }
}

const RECORD_FIELD_BYTES = 8;

/** The signed bytes of a record: its fields as 8-byte big-endian numbers, in declaration order. */
export function forkRecordBytes(record: Omit<ForkRecord, 'signature'>): Uint8Array {
  const fields: bigint[] = [
    record.parentOrigin,
    BigInt(record.parentSequence),
    record.parentChainHead,
    BigInt(record.parentInboundThrough),
    record.childOrigin,
    record.childGenesisHash,
    BigInt(record.forkIndex),
    BigInt(Math.trunc(record.createdAtMs)),
  ];
  const bytes = new Uint8Array(fields.length * RECORD_FIELD_BYTES);
  const view = new DataView(bytes.buffer);
  fields.forEach((value, index) => {
    view.setBigUint64(index * RECORD_FIELD_BYTES, BigInt.asUintN(64, value));
  });
  return bytes;
}

/**
 * Checks a record's signature against the parent's public key and, when given, that the
 * parent's chain entry at the fork point hashes to the recorded chain head.
 */
export function verifyForkRecord(
  record: ForkRecord,
  parentPublicKey: Uint8Array,
  parentEntryAtFork?: ChainEntry,
): void {
  const problems = forkRecordShapeProblems(record, parentPublicKey, parentEntryAtFork);
  if (problems.length > 0) throw new ForkRecordError(problems.join('; '));
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), parentPublicKey]),
    format: 'der',
    type: 'spki',
  });
  const { signature, ...fields } = record;
  if (!verify(null, forkRecordBytes(fields), key, signature)) throw new ForkRecordError('bad signature');
  if (record.childGenesisHash !== hashLink(genesisLink(record.childOrigin), EMPTY_STATE)) {
    throw new ForkRecordError('child genesis hash does not match the child origin');
  }
  if (parentEntryAtFork !== undefined) {
    if (parentEntryAtFork.link.originHash !== record.parentOrigin)
      throw new ForkRecordError('wrong parent origin');
    if (parentEntryAtFork.link.sequence !== record.parentSequence)
      throw new ForkRecordError('wrong fork sequence');
    if (hashLink(parentEntryAtFork.link, parentEntryAtFork.payload) !== record.parentChainHead) {
      throw new ForkRecordError('parent chain head does not match the parent chain');
    }
  }
}

const RECORD_HASH_FIELDS = ['parentOrigin', 'parentChainHead', 'childOrigin', 'childGenesisHash'] as const;
const RECORD_COUNT_FIELDS = ['parentSequence', 'parentInboundThrough', 'forkIndex'] as const;

/** A record may come from another node or plain JavaScript: its shape is checked before it is verified. */
function forkRecordShapeProblems(
  record: ForkRecord,
  parentPublicKey: Uint8Array,
  parentEntryAtFork: ChainEntry | undefined,
): string[] {
  const problems = new InputProblems();
  if (problems.record('record', record)) {
    for (const field of RECORD_HASH_FIELDS) {
      if (typeof record[field] !== 'bigint') {
        problems.add(`record.${field} must be a bigint, got ${describeValue(record[field])}`);
      }
    }
    for (const field of RECORD_COUNT_FIELDS) {
      problems.integer(`record.${field}`, record[field], 0, Number.MAX_SAFE_INTEGER);
    }
    problems.nonNegativeNumber('record.createdAtMs', record.createdAtMs);
    if (!(record.signature instanceof Uint8Array)) {
      problems.add(`record.signature must be a Uint8Array, got ${describeValue(record.signature)}`);
    }
  }
  problems.bytes('parentPublicKey', parentPublicKey, ED25519_PUBLIC_KEY_BYTES);
  if (parentEntryAtFork !== undefined && problems.record('parentEntryAtFork', parentEntryAtFork)) {
    if (!isRecord(parentEntryAtFork.link)) problems.add('parentEntryAtFork.link must be a chain link');
    if (!(parentEntryAtFork.payload instanceof Uint8Array)) {
      problems.add('parentEntryAtFork.payload must be a Uint8Array');
    }
  }
  return problems.list;
}

export interface ForkGroupOptions {
  /** 32 bytes; fork i's identity derives from it and i. */
  readonly groupSeed: Uint8Array;
  readonly clock: Clock;
  readonly hostConfig?: DaemonHostConfig;
}

export interface ForkResult {
  readonly origin: bigint;
  readonly record: ForkRecord;
}

/**
 * The forks of one parent daemon: each fork copies the parent's current state into a new
 * identity (derived from the group seed and the fork index) whose chain starts at its own
 * genesis, linked to the parent's chain by a signed fork record.
 */
export class ForkGroup {
  private readonly records: ForkRecord[] = [];
  private readonly seed: Uint8Array;

  constructor(
    private readonly runtime: DaemonRuntime,
    readonly kind: string,
    readonly parentOrigin: bigint,
    private readonly options: ForkGroupOptions,
  ) {
    const problems = new InputProblems();
    groupTargetProblems(problems, runtime, kind);
    if (typeof parentOrigin !== 'bigint') {
      problems.add(`parentOrigin must be a bigint, got ${describeValue(parentOrigin)}`);
    }
    if (problems.record('options', options)) {
      problems.bytes('options.groupSeed', options.groupSeed, GROUP_SEED_BYTES);
      problems.methods('options.clock', options.clock, ['wallMs']);
      if (options.hostConfig !== undefined && problems.record('options.hostConfig', options.hostConfig)) {
        problems.nested('options.hostConfig', hostConfigProblems(options.hostConfig));
      }
    }
    problems.throwIfAny('fork group');
    runtime.factoryFor(kind);
    if (!runtime.has(parentOrigin)) throw new DaemonNotFoundError(parentOrigin);
    this.seed = deriveSeed(options.groupSeed, 'fork');
  }

  forks(): readonly ForkRecord[] {
    return this.records;
  }

  fork(): ForkResult {
    const parent = this.runtime.host(this.parentOrigin);
    const snapshot = parent.snapshot();
    const forkIndex = this.records.length;
    const identity = memberIdentity(this.seed, forkIndex);
    const child = this.runtime.spawn(
      this.kind,
      identity,
      this.options.hostConfig === undefined ? {} : { hostConfig: this.options.hostConfig },
    );
    try {
      child.restore(snapshot);
    } catch (error) {
      this.runtime.unregister(identity.originHash);
      throw error;
    }
    const fields: Omit<ForkRecord, 'signature'> = {
      parentOrigin: this.parentOrigin,
      parentSequence: snapshot.throughSequence,
      parentChainHead: snapshot.chainHead,
      parentInboundThrough: snapshot.inboundThrough,
      childOrigin: identity.originHash,
      childGenesisHash: child.chainHead,
      forkIndex,
      createdAtMs: this.options.clock.wallMs(),
    };
    const signature = new Uint8Array(sign(null, forkRecordBytes(fields), parent.identity.privateKey));
    const record: ForkRecord = { ...fields, signature };
    this.records.push(record);
    return { origin: identity.originHash, record };
  }
}
