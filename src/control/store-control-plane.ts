/**
 * The one `ControlPlane` implementation, over any `ControlStore`: it checks every argument
 * (keys, values, limits), puts the root in front of keys and takes it off answers, and runs
 * the parts that are the same on every store: resuming watches and lease keep-alives.
 */
import type { Clock, Random } from '../lib/index.js';
import type {
  ControlCompare,
  ControlDeleteAnswer,
  ControlEntry,
  ControlGetOptions,
  ControlLeaseGrant,
  ControlLeaseTimeToLive,
  ControlPlane,
  ControlPlaneKind,
  ControlPutOptions,
  ControlRangeAnswer,
  ControlRangeOptions,
  ControlTxn,
  ControlTxnAnswer,
  ControlTxnOp,
  ControlTxnOpResult,
  ControlWatch,
  ControlWatchOptions,
  ControlWriteAnswer,
  KeepAliveOptions,
  LeaseKeepAlive,
} from './control-plane.js';
import { ControlClosedError } from './errors.js';
import { type ControlKeys, checkValue } from './keys.js';
import { LeaseKeeper } from './lease-keeper.js';
import {
  checkCompareOperand,
  checkLeaseId,
  checkLimit,
  checkOptionalLeaseId,
  checkRevision,
  checkTtl,
  checkTxnSize,
} from './request-checks.js';
import { ResumingWatch } from './resuming-watch.js';
import type { ControlStore, StoreCompare, StoreKeyValue, StoreOp, StoreOpResult } from './store.js';

const STORE_TARGET = {
  value: 'value',
  version: 'version',
  createRevision: 'create',
  modRevision: 'mod',
} as const satisfies Record<ControlCompare['target'], StoreCompare['target']>;

export interface StoreControlPlaneDependencies {
  readonly store: ControlStore;
  readonly keys: ControlKeys;
  readonly clock: Clock;
  readonly random: Random;
}

export class StoreControlPlane implements ControlPlane {
  readonly kind: ControlPlaneKind;
  readonly root: string;
  private readonly store: ControlStore;
  private readonly keys: ControlKeys;
  private readonly watches = new Set<ResumingWatch>();
  private readonly keepers = new Set<LeaseKeeper>();
  private closed = false;

  constructor(private readonly dependencies: StoreControlPlaneDependencies) {
    this.store = dependencies.store;
    this.keys = dependencies.keys;
    this.kind = dependencies.store.kind;
    this.root = dependencies.keys.root;
  }

  async get(key: string, options: ControlGetOptions = {}): Promise<ControlEntry | undefined> {
    this.checkOpen();
    const stored = this.keys.key(key);
    const revision = checkRevision('revision', options.revision);
    const answer = await this.store.range({ start: stored, end: undefined }, { limit: 1, revision });
    const kv = answer.kvs[0];
    return kv === undefined ? undefined : this.entry(kv);
  }

  async range(prefix: string, options: ControlRangeOptions = {}): Promise<ControlRangeAnswer> {
    this.checkOpen();
    const range =
      options.startAfter === undefined
        ? this.keys.prefix(prefix)
        : this.keys.prefixAfter(prefix, options.startAfter);
    const limit = checkLimit(options.limit);
    const revision = checkRevision('revision', options.revision);
    const answer = await this.store.range(range, { limit, revision });
    return { entries: answer.kvs.map((kv) => this.entry(kv)), revision: answer.revision, more: answer.more };
  }

  async put(key: string, value: Uint8Array, options: ControlPutOptions = {}): Promise<ControlWriteAnswer> {
    this.checkOpen();
    const stored = this.keys.key(key);
    checkValue(key, value);
    const lease = checkOptionalLeaseId(options.lease);
    return { revision: await this.store.put(stored, value, lease) };
  }

  async delete(key: string): Promise<ControlDeleteAnswer> {
    this.checkOpen();
    return this.store.deleteRange({ start: this.keys.key(key), end: undefined });
  }

  async deletePrefix(prefix: string): Promise<ControlDeleteAnswer> {
    this.checkOpen();
    return this.store.deleteRange(this.keys.prefix(prefix));
  }

  async txn(request: ControlTxn): Promise<ControlTxnAnswer> {
    this.checkOpen();
    const storeTxn = {
      compare: request.compare.map((compare) => this.storeCompare(compare)),
      success: request.success.map((op) => this.storeOp(op)),
      failure: (request.failure ?? []).map((op) => this.storeOp(op)),
    };
    checkTxnSize(storeTxn);
    const answer = await this.store.txn(storeTxn);
    return {
      succeeded: answer.succeeded,
      revision: answer.revision,
      results: answer.results.map((result) => this.txnResult(result)),
    };
  }

  async watch(prefix: string, options: ControlWatchOptions = {}): Promise<ControlWatch> {
    this.checkOpen();
    const range = this.keys.prefix(prefix);
    const from =
      options.fromRevision === undefined
        ? (await this.store.currentRevision()) + 1
        : checkRevision('fromRevision', options.fromRevision);
    const first = await this.store.watch(range, from);
    if (this.closed) {
      first.close();
      throw new ControlClosedError();
    }
    const watch = new ResumingWatch(
      {
        open: (startRevision) => this.store.watch(range, startRevision),
        keys: this.keys,
        clock: this.dependencies.clock,
        random: this.dependencies.random,
        onEnd: (ended) => this.watches.delete(ended),
      },
      from,
      first,
    );
    this.watches.add(watch);
    return watch;
  }

  async grantLease(ttlSeconds: number): Promise<ControlLeaseGrant> {
    this.checkOpen();
    return this.store.leaseGrant(checkTtl(ttlSeconds));
  }

  async revokeLease(id: number): Promise<void> {
    this.checkOpen();
    await this.store.leaseRevoke(checkLeaseId(id));
  }

  async leaseTimeToLive(id: number): Promise<ControlLeaseTimeToLive | undefined> {
    this.checkOpen();
    const answer = await this.store.leaseTimeToLive(checkLeaseId(id));
    if (answer.ttlSeconds < 0) return undefined;
    return { id, remainingSeconds: answer.ttlSeconds, grantedTtlSeconds: answer.grantedTtlSeconds };
  }

  async renewLease(id: number): Promise<number> {
    this.checkOpen();
    return this.store.leaseRenew(checkLeaseId(id));
  }

  keepAlive(id: number, options: KeepAliveOptions = {}): LeaseKeepAlive {
    this.checkOpen();
    const keeper = new LeaseKeeper(checkLeaseId(id), {
      renew: (leaseId) => this.store.leaseRenew(leaseId),
      clock: this.dependencies.clock,
      random: this.dependencies.random,
      ...(options.onLost === undefined ? {} : { onLost: options.onLost }),
      onEnd: (ended) => this.keepers.delete(ended),
    });
    this.keepers.add(keeper);
    return keeper;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.closeByPlane();
    for (const keeper of [...this.keepers]) keeper.stop();
    await this.store.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new ControlClosedError();
  }

  private entry(kv: StoreKeyValue): ControlEntry {
    return {
      key: this.keys.relative(kv.key),
      value: kv.value,
      createRevision: kv.createRevision,
      modRevision: kv.modRevision,
      version: kv.version,
      lease: kv.lease,
    };
  }

  private storeCompare(compare: ControlCompare): StoreCompare {
    const key = this.keys.key(compare.key);
    const target = STORE_TARGET[compare.target];
    if (compare.target === 'value') {
      checkValue(compare.key, compare.operand);
      return { key, target, operator: compare.operator, operand: compare.operand };
    }
    return { key, target, operator: compare.operator, operand: checkCompareOperand(compare.operand) };
  }

  private storeOp(op: ControlTxnOp): StoreOp {
    switch (op.type) {
      case 'put':
        checkValue(op.key, op.value);
        return {
          type: 'put',
          key: this.keys.key(op.key),
          value: op.value,
          lease: checkOptionalLeaseId(op.lease),
        };
      case 'delete':
        return {
          type: 'delete',
          range:
            op.prefix === true ? this.keys.prefix(op.key) : { start: this.keys.key(op.key), end: undefined },
        };
      case 'get':
        return { type: 'get', key: this.keys.key(op.key) };
    }
  }

  private txnResult(result: StoreOpResult): ControlTxnOpResult {
    if (result.type === 'get')
      return { type: 'get', entry: result.kv === undefined ? undefined : this.entry(result.kv) };
    return result;
  }
}
