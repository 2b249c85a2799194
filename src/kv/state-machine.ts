/**
 * The replicated key-value state machine. `apply(index, commandBytes)` is pure and deterministic:
 * the same commands in the same order give the same state and the same `snapshot()` bytes on every
 * replica. A failed command leaves the state unchanged and yields an error result; only broken
 * invariants (programmer errors) throw.
 */
import {
  assert,
  ChunkConcatenation,
  type FedTask,
  followedBy,
  runToEnd,
  type SteppedTask,
} from '../lib/index.js';
import { bytesToBinary, compareBinary, compareBytes } from './bytes.js';
import { decodeKvCommand } from './codec.js';
import {
  CompactedError,
  FutureRevisionError,
  KeyNotFoundError,
  KvError,
  LeaseExistsError,
  LeaseNotFoundError,
  NoSpaceError,
  RequestTooLargeError,
} from './errors.js';
import { KvEvent, recordToKeyValue } from './events.js';
import { type KvHash, KvHasher } from './hash.js';
import {
  DEFAULT_MIN_LEASE_TTL_SECONDS,
  HELD_DROP_STEP_RECORDS,
  MAX_REQUEST_BYTES,
  WATCH_CATCH_UP_BATCH_EVENTS,
} from './limits.js';
import { type KeyRecord, MvccStore, type StoreChange } from './mvcc.js';
import { LEASE_STORED_BYTES, writesData } from './quota.js';
import {
  type LeaseEntry,
  SNAPSHOT_STEP_LIMITS,
  SnapshotDecoder,
  SnapshotEncoder,
  type SnapshotStepLimits,
} from './snapshot.js';
import type {
  AlarmMember,
  AlarmRequest,
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KvCommand,
  KvResult,
  LeaseStatus,
  LeaseTimeToLive,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './types.js';
import { type KeyRange, resolveRange, validateKvCommand } from './validate.js';

export interface KvStateMachineOptions {
  /** Grants shorter than this are raised to it. Must be equal on every replica. */
  readonly minLeaseTtlSeconds?: number;
}

/** Lease changes of one apply, for the leader-local `Lessor`. */
export interface LeaseChanges {
  readonly granted: readonly LeaseStatus[];
  readonly revoked: readonly number[];
}

export interface ApplyOutcome {
  readonly index: number;
  /** Store revision after the command. */
  readonly revision: number;
  readonly result: KvResult;
  /** Changes in order, for the watch hub. */
  readonly events: readonly KvEvent[];
  readonly leases: LeaseChanges;
}

interface MutableHeader {
  revision: number;
}

const NO_EVENTS: readonly KvEvent[] = [];
const EMPTY_BYTES = new Uint8Array(0);
const NO_LEASE_CHANGES: LeaseChanges = { granted: [], revoked: [] };

/** Scans a watch catch-up step may make over the change log, so one step stays short. */
const MAX_HISTORY_SCANNED_RECORDS = 65_536;

export class KvStateMachine {
  private store: MvccStore;
  private leases: Map<number, LeaseEntry>;
  private nextLeaseId: number;
  private lastApplied: number;
  /** Raised alarms, ordered by member id. */
  private raisedAlarms: AlarmMember[] = [];
  private readonly minLeaseTtlSeconds: number;

  constructor(options: KvStateMachineOptions = {}) {
    this.minLeaseTtlSeconds = options.minLeaseTtlSeconds ?? DEFAULT_MIN_LEASE_TTL_SECONDS;
    assert(
      Number.isSafeInteger(this.minLeaseTtlSeconds) && this.minLeaseTtlSeconds >= 1,
      'minLeaseTtlSeconds must be a positive integer',
    );
    this.store = new MvccStore();
    this.leases = new Map();
    this.nextLeaseId = 1;
    this.lastApplied = 0;
  }

  get revision(): number {
    return this.store.currentRevision;
  }

  get compactRevision(): number {
    return this.store.compactRevision;
  }

  get appliedIndex(): number {
    return this.lastApplied;
  }

  /** Number of keys with any retained history (live or deleted). */
  get indexedKeyCount(): number {
    return this.store.index.size;
  }

  /** Records kept (every revision of every key since the compact revision, tombstones included). */
  get storedRecordCount(): number {
    return this.store.storedRecordCount;
  }

  /**
   * Memory (outside the V8 heap) of the slabs holding the stored values: node-local, at most about
   * twice the live values' bytes plus a slab or a few (see value-arena.ts).
   */
  get valueSlabBytes(): number {
    return this.store.values.slabBytes;
  }

  /** What the stored data counts for the space quota: every kept record and every lease. */
  get storedBytes(): number {
    return this.store.storedBytes + this.leases.size * LEASE_STORED_BYTES;
  }

  /** Where a compaction towards `target` may stop to drop at most about `maxRecords` records. */
  compactionStep(target: number, maxRecords: number): number {
    return this.store.compactionStep(target, maxRecords);
  }

  /** The raised alarms, ordered by member id. */
  get alarms(): readonly AlarmMember[] {
    return this.raisedAlarms;
  }

  private get noSpace(): boolean {
    return this.raisedAlarms.some((member) => member.alarm === 'NOSPACE');
  }

  /** Applies one committed log entry holding an encoded command. */
  apply(index: number, commandBytes: Uint8Array): ApplyOutcome {
    this.advanceIndex(index);
    if (commandBytes.length > MAX_REQUEST_BYTES) {
      return this.failure(index, new RequestTooLargeError(commandBytes.length, MAX_REQUEST_BYTES));
    }
    let command: KvCommand;
    try {
      command = decodeKvCommand(commandBytes);
    } catch (error) {
      if (error instanceof KvError) return this.failure(index, error);
      throw error;
    }
    return this.execute(index, command);
  }

  /** Applies a typed command (same effect as applying its encoding). */
  applyCommand(index: number, command: KvCommand): ApplyOutcome {
    this.advanceIndex(index);
    return this.execute(index, command);
  }

  /** Records a committed entry that is not a KV command (no-op, membership change). */
  skip(index: number): void {
    this.advanceIndex(index);
  }

  private advanceIndex(index: number): void {
    assert(Number.isSafeInteger(index) && index > this.lastApplied, () => {
      return `apply index ${index} is not after the applied index ${this.lastApplied}`;
    });
    this.lastApplied = index;
  }

  private failure(index: number, error: KvError): ApplyOutcome {
    return {
      index,
      revision: this.store.currentRevision,
      result: { type: 'error', header: { revision: this.store.currentRevision }, error },
      events: NO_EVENTS,
      leases: NO_LEASE_CHANGES,
    };
  }

  private execute(index: number, command: KvCommand): ApplyOutcome {
    try {
      validateKvCommand(command);
      // Decided from the replicated alarm set, so every replica refuses the same writes.
      if (this.noSpace && writesData(command)) throw new NoSpaceError();
      switch (command.type) {
        case 'alarm':
          return this.alarm(index, command);
        case 'compact':
          return this.compact(index, command.revision);
        case 'leaseGrant':
          return this.grant(index, command.id, command.ttlSeconds);
        case 'leaseRevoke':
          return this.revoke(index, command.id);
        default:
          return this.write(index, command);
      }
    } catch (error) {
      if (error instanceof KvError) return this.failure(index, error);
      throw error;
    }
  }

  /** Runs a request op inside one write group; the group commits or rolls back as a whole. */
  private write(index: number, op: RequestOp): ApplyOutcome {
    const header: MutableHeader = { revision: 0 };
    this.store.begin();
    let result: ResponseOp;
    let changes: StoreChange[];
    try {
      result = this.executeOp(op, header);
      changes = this.store.commit();
    } catch (error) {
      this.store.rollback();
      throw error;
    }
    header.revision = this.store.currentRevision;
    this.attachLeases(changes);
    return {
      index,
      revision: header.revision,
      result,
      events:
        changes.length === 0
          ? NO_EVENTS
          : changes.map((change) => new KvEvent(change.record, change.previous)),
      leases: NO_LEASE_CHANGES,
    };
  }

  private attachLeases(changes: readonly StoreChange[]): void {
    for (const { record, previous } of changes) {
      if (previous !== undefined && previous.lease !== 0)
        this.leases.get(previous.lease)?.keys.delete(record.key);
      if (record.value !== null && record.lease !== 0) {
        const lease = this.leases.get(record.lease);
        assert(lease !== undefined, 'a put attached a lease that does not exist');
        lease.keys.add(record.key);
      }
    }
  }

  private executeOp(op: RequestOp, header: ResponseHeader): ResponseOp {
    switch (op.type) {
      case 'range':
        return this.rangeAt(op, header);
      case 'put':
        return this.put(op, header);
      case 'deleteRange':
        return this.deleteRange(op, header);
      case 'txn':
        return this.txn(op, header);
    }
  }

  private put(op: PutRequest, header: ResponseHeader): PutResponse {
    const key = bytesToBinary(op.key);
    const requestedLease = op.lease ?? 0;
    if (requestedLease !== 0 && !this.leases.has(requestedLease))
      throw new LeaseNotFoundError(requestedLease);
    const previous = this.store.latest(key);
    if ((op.ignoreValue === true || op.ignoreLease === true) && previous === undefined) {
      throw new KeyNotFoundError();
    }
    const value = op.ignoreValue === true ? (previous?.value as Uint8Array) : op.value;
    const lease = op.ignoreLease === true ? (previous?.lease ?? 0) : requestedLease;
    this.store.put(key, value, lease);
    return op.prevKv === true && previous !== undefined
      ? { type: 'put', header, prevKv: recordToKeyValue(previous) }
      : { type: 'put', header };
  }

  private deleteRange(op: DeleteRangeRequest, header: ResponseHeader): DeleteRangeResponse {
    const range = resolveRange(op.key, op.rangeEnd, op.prefix);
    const victims: KeyRecord[] = [];
    this.store.scan(range, this.store.readRevision(0), (record) => {
      victims.push(record);
      return true;
    });
    for (const record of victims) this.store.delete(record.key);
    return {
      type: 'deleteRange',
      header,
      deleted: victims.length,
      prevKvs: op.prevKv === true ? victims.map((record) => recordToKeyValue(record)) : [],
    };
  }

  private txn(op: TxnRequest, header: ResponseHeader): TxnResponse {
    const succeeded = op.compare.every((compare) => this.compare(compare));
    const branch = succeeded ? op.success : op.failure;
    const responses = branch.map((child) => this.executeOp(child, header));
    return { type: 'txn', header, succeeded, responses };
  }

  private compare(compare: Compare): boolean {
    const range = resolveRange(compare.key, compare.rangeEnd, undefined);
    const records: KeyRecord[] = [];
    this.store.scan(range, this.store.readRevision(0), (record) => {
      records.push(record);
      return true;
    });
    if (records.length === 0) {
      // A missing key has no value to compare; its numbers (version, revisions, lease) are zero.
      if (compare.target === 'value') return false;
      return KvStateMachine.holds(
        compare,
        KvStateMachine.targetNumber(compare, undefined) - (compare.number ?? 0),
      );
    }
    return records.every((record) => {
      const difference =
        compare.target === 'value'
          ? compareBytes(record.value as Uint8Array, compare.value ?? EMPTY_BYTES)
          : KvStateMachine.targetNumber(compare, record) - (compare.number ?? 0);
      return KvStateMachine.holds(compare, difference);
    });
  }

  private static targetNumber(compare: Compare, record: KeyRecord | undefined): number {
    if (record === undefined) return 0;
    switch (compare.target) {
      case 'version':
        return record.version;
      case 'create':
        return record.createRevision;
      case 'mod':
        return record.modRevision;
      case 'lease':
        return record.lease;
      case 'value':
        return 0;
    }
  }

  private static holds(compare: Compare, difference: number): boolean {
    switch (compare.result) {
      case 'equal':
        return difference === 0;
      case 'notEqual':
        return difference !== 0;
      case 'less':
        return difference < 0;
      case 'greater':
        return difference > 0;
    }
  }

  /** A read that does not go through the log (serializable or after ReadIndex). */
  range(request: RangeRequest): RangeResponse {
    validateKvCommand(request);
    return this.rangeAt(request, { revision: this.store.currentRevision });
  }

  private rangeAt(op: RangeRequest, header: ResponseHeader): RangeResponse {
    const range: KeyRange = resolveRange(op.key, op.rangeEnd, op.prefix);
    const revision = this.store.readRevision(op.revision ?? 0);
    const limit = op.limit ?? 0;
    const sortTarget = op.sortTarget ?? 'key';
    // As in etcd, a sort target other than the key with no order given sorts ascending.
    const requestedOrder = op.sortOrder ?? 'none';
    const sortOrder = requestedOrder === 'none' && sortTarget !== 'key' ? 'ascend' : requestedOrder;
    const filtered =
      (op.minModRevision ?? 0) > 0 ||
      (op.maxModRevision ?? 0) > 0 ||
      (op.minCreateRevision ?? 0) > 0 ||
      (op.maxCreateRevision ?? 0) > 0;
    // Unsorted (key order) and unfiltered reads keep only limit + 1 records; counting continues.
    const keepAll = filtered || (sortOrder !== 'none' && !(sortOrder === 'ascend' && sortTarget === 'key'));
    let count = 0;
    let records: KeyRecord[] = [];
    this.store.scan(range, revision, (record) => {
      count++;
      if (op.countOnly !== true && (keepAll || limit === 0 || records.length <= limit)) records.push(record);
      return true;
    });
    if (op.countOnly === true) return { type: 'range', header, kvs: [], more: false, count };
    if (filtered) records = records.filter((record) => KvStateMachine.passes(op, record));
    if (sortOrder === 'descend') {
      records.sort((left, right) => KvStateMachine.compareBy(sortTarget, right, left));
    } else if (sortOrder === 'ascend' && sortTarget !== 'key') {
      records.sort((left, right) => KvStateMachine.compareBy(sortTarget, left, right));
    }
    const more = limit > 0 && records.length > limit;
    if (more) records.length = limit;
    return {
      type: 'range',
      header,
      kvs: records.map((record) => recordToKeyValue(record, op.keysOnly === true)),
      more,
      count,
    };
  }

  private static passes(op: RangeRequest, record: KeyRecord): boolean {
    if ((op.minModRevision ?? 0) > 0 && record.modRevision < (op.minModRevision ?? 0)) return false;
    if ((op.maxModRevision ?? 0) > 0 && record.modRevision > (op.maxModRevision ?? 0)) return false;
    if ((op.minCreateRevision ?? 0) > 0 && record.createRevision < (op.minCreateRevision ?? 0)) return false;
    if ((op.maxCreateRevision ?? 0) > 0 && record.createRevision > (op.maxCreateRevision ?? 0)) return false;
    return true;
  }

  private static compareBy(target: string, left: KeyRecord, right: KeyRecord): number {
    switch (target) {
      case 'version':
        return left.version - right.version;
      case 'create':
        return left.createRevision - right.createRevision;
      case 'mod':
        return left.modRevision - right.modRevision;
      case 'value':
        return compareBytes(left.value ?? EMPTY_BYTES, right.value ?? EMPTY_BYTES);
      default:
        return compareBinary(left.key, right.key);
    }
  }

  private compact(index: number, revision: number): ApplyOutcome {
    if (revision > this.store.currentRevision) throw new FutureRevisionError(this.store.currentRevision);
    if (revision <= this.store.compactRevision) throw new CompactedError(this.store.compactRevision);
    this.store.compact(revision);
    const header = { revision: this.store.currentRevision };
    return {
      index,
      revision: header.revision,
      result: { type: 'compact', header },
      events: NO_EVENTS,
      leases: NO_LEASE_CHANGES,
    };
  }

  /** As etcd answers: the alarm raised, or the alarm cleared (none if it was not raised). */
  private alarm(index: number, request: AlarmRequest): ApplyOutcome {
    const member: AlarmMember = { memberId: request.memberId, alarm: request.alarm };
    const others = this.raisedAlarms.filter(
      (raised) => raised.memberId !== member.memberId || raised.alarm !== member.alarm,
    );
    const wasRaised = others.length < this.raisedAlarms.length;
    if (request.action === 'activate') {
      others.push(member);
      others.sort((left, right) => left.memberId - right.memberId || compareBinary(left.alarm, right.alarm));
    }
    this.raisedAlarms = others;
    const header = { revision: this.store.currentRevision };
    const alarms = request.action === 'activate' || wasRaised ? [member] : [];
    return {
      index,
      revision: header.revision,
      result: { type: 'alarm', header, alarms },
      events: NO_EVENTS,
      leases: NO_LEASE_CHANGES,
    };
  }

  private grant(index: number, requestedId: number, ttlSeconds: number): ApplyOutcome {
    let id = requestedId;
    if (id === 0) {
      while (this.leases.has(this.nextLeaseId)) this.nextLeaseId++;
      id = this.nextLeaseId++;
    } else if (this.leases.has(id)) {
      throw new LeaseExistsError(id);
    }
    const granted = Math.max(ttlSeconds, this.minLeaseTtlSeconds);
    this.leases.set(id, { id, ttlSeconds: granted, keys: new Set() });
    const header = { revision: this.store.currentRevision };
    return {
      index,
      revision: header.revision,
      result: { type: 'leaseGrant', header, id, ttlSeconds: granted },
      events: NO_EVENTS,
      leases: { granted: [{ id, ttlSeconds: granted }], revoked: [] },
    };
  }

  /** Deletes every key attached to the lease in one revision, then forgets the lease. */
  private revoke(index: number, id: number): ApplyOutcome {
    const lease = this.leases.get(id);
    if (lease === undefined) throw new LeaseNotFoundError(id);
    const keys = [...lease.keys].sort(compareBinary);
    this.store.begin();
    for (const key of keys) this.store.delete(key);
    const changes = this.store.commit();
    this.attachLeases(changes);
    this.leases.delete(id);
    const header = { revision: this.store.currentRevision };
    return {
      index,
      revision: header.revision,
      result: { type: 'leaseRevoke', header },
      events: changes.map((change) => new KvEvent(change.record, change.previous)),
      leases: { granted: [], revoked: [id] },
    };
  }

  leaseTimeToLive(id: number, withKeys = false): LeaseTimeToLive {
    const lease = this.leases.get(id);
    if (lease === undefined) throw new LeaseNotFoundError(id);
    const keys = withKeys
      ? [...lease.keys]
          .sort(compareBinary)
          .map((key) => recordToKeyValue(this.store.latest(key) as KeyRecord, true).key)
      : [];
    return { id, grantedTtlSeconds: lease.ttlSeconds, keys };
  }

  /** Every lease, ordered by id. */
  leaseList(): LeaseStatus[] {
    return [...this.leases.values()]
      .map((lease) => ({ id: lease.id, ttlSeconds: lease.ttlSeconds }))
      .sort((left, right) => left.id - right.id);
  }

  hasLease(id: number): boolean {
    return this.leases.has(id);
  }

  /** Watch support: changes in `range` from `fromRevision`, a bounded step at a time. */
  history(
    range: KeyRange,
    fromRevision: number,
    maxEvents = WATCH_CATCH_UP_BATCH_EVENTS,
  ): {
    events: KvEvent[];
    nextRevision: number;
  } {
    const { records, nextRevision } = this.store.history(
      range,
      fromRevision,
      maxEvents,
      MAX_HISTORY_SCANNED_RECORDS,
    );
    return {
      events: records.map((record) => new KvEvent(record, this.store.previousOf(record))),
      nextRevision,
    };
  }

  /**
   * Starts encoding the state as of now, a bounded step at a time; commands may be applied between
   * the steps without changing what it encodes. Equal states give equal bytes. Compaction drops no
   * history while the encoding runs; the task's last steps drop what it held back,
   * `HELD_DROP_STEP_RECORDS` change records per step (`limits.heldDropRecords`). Finish or cancel it (a cancelled task leaves
   * the held history to later compactions' steps, or to the next snapshot's start).
   */
  startSnapshot(limits: SnapshotStepLimits = SNAPSHOT_STEP_LIMITS): SteppedTask<Uint8Array[]> {
    const encoder = new SnapshotEncoder(
      {
        appliedIndex: this.lastApplied,
        nextLeaseId: this.nextLeaseId,
        leases: this.leaseList(),
        alarms: [...this.raisedAlarms],
        view: this.store.openView(),
      },
      limits,
    );
    const dropRecords = limits.heldDropRecords ?? HELD_DROP_STEP_RECORDS;
    return followedBy(encoder, (chunks) => this.heldHistoryDrop(chunks, dropRecords));
  }

  /**
   * Starts hashing the history up to `revision` (0 or less: the current one) as HashKV answers it (see
   * hash.ts), a bounded step at a time; applies may go on between the steps. Refuses a revision
   * at or below the compact revision (KV_COMPACTED) or above the current one (KV_FUTURE_REVISION),
   * as etcd does.
   */
  startHashKv(revision: number, limits: SnapshotStepLimits = SNAPSHOT_STEP_LIMITS): SteppedTask<KvHash> {
    const current = this.store.currentRevision;
    const compacted = this.store.compactRevision;
    if (revision > current) throw new FutureRevisionError(current);
    if (revision > 0 && revision <= compacted) throw new CompactedError(compacted);
    const hasher = new KvHasher(this.store.openView(), revision <= 0 ? current : revision, limits);
    const dropRecords = limits.heldDropRecords ?? HELD_DROP_STEP_RECORDS;
    return followedBy(hasher, (hash) => this.heldHistoryDrop(hash, dropRecords));
  }

  /** Drops the history a closed view held back, a step at a time; its result is `result`. */
  private heldHistoryDrop<Result>(result: Result, stepRecords: number): SteppedTask<Result> {
    let cancelled = false;
    return {
      // Another view still open (a second snapshot) holds the history: its own task drops it.
      step: () => cancelled || this.store.hasOpenViews || this.store.dropHeldHistory(stepRecords),
      result: () => result,
      cancel: () => {
        cancelled = true;
      },
    };
  }

  /** Encodes the whole replicated state in one go. */
  snapshot(): Uint8Array {
    return runToEnd(followedBy(this.startSnapshot(), (chunks) => new ChunkConcatenation(chunks)));
  }

  /**
   * Starts replacing this state with a snapshot's, a bounded step at a time: the new state is built
   * aside and swapped in by the last step, so nothing is applied meanwhile. A step throws
   * `SnapshotCorruptError` if the snapshot does not check out (the state is then unchanged).
   */
  startRestore(bytes: Uint8Array, limits: SnapshotStepLimits = SNAPSHOT_STEP_LIMITS): SteppedTask<void> {
    const task = this.startRestoreFrom(bytes.byteLength, limits);
    task.push(bytes);
    return task;
  }

  /**
   * `startRestore` for a snapshot of `byteLength` bytes pushed in parts (read from a file a part
   * at a time, so the whole snapshot is never held in memory).
   */
  startRestoreFrom(byteLength: number, limits: SnapshotStepLimits = SNAPSHOT_STEP_LIMITS): FedTask<void> {
    const decoder = new SnapshotDecoder(byteLength, limits);
    let swapped = false;
    return {
      get wantsBytes() {
        return decoder.wantsBytes;
      },
      push: (part) => decoder.push(part),
      step: () => {
        if (swapped) return true;
        if (!decoder.step()) return false;
        swapped = true;
        const decoded = decoder.result();
        this.store = new MvccStore(decoded);
        this.leases = decoded.leases;
        this.nextLeaseId = decoded.nextLeaseId;
        this.lastApplied = decoded.appliedIndex;
        this.raisedAlarms = [...decoded.alarms];
        return true;
      },
      result: () => undefined,
      cancel: () => decoder.cancel(),
    };
  }

  /** Replaces this state with a snapshot's in one go; throws `SnapshotCorruptError` if it does not check out. */
  restore(bytes: Uint8Array): void {
    runToEnd(this.startRestore(bytes));
  }

  static fromSnapshot(bytes: Uint8Array, options: KvStateMachineOptions = {}): KvStateMachine {
    const machine = new KvStateMachine(options);
    machine.restore(bytes);
    return machine;
  }
}
