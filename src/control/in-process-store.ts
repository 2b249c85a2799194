/**
 * The control plane's store on a node that runs the Raft KV: calls the node's `KvBackend`
 * directly, with no gRPC hop. Writes go through consensus (forwarded to the leader by the
 * backend), reads are linearizable, watches are served by the node's own watch hub.
 */
import type { KvBackend } from '../api/index.js';
import type { Compare, CompareResult, RequestOp, ResponseOp, Watcher, WatchResponse } from '../kv/index.js';
import { assertNever } from '../lib/index.js';
import { mapFailure } from './error-map.js';
import { ControlCompactedError, ControlUnavailableError } from './errors.js';
import type { StoreRange } from './keys.js';
import type {
  ControlStore,
  StoreCompare,
  StoreEvent,
  StoreOp,
  StoreOpResult,
  StoreRangeAnswer,
  StoreTxn,
  StoreTxnAnswer,
  StoreWatch,
} from './store.js';

const RESULT_OF_OPERATOR: Record<StoreCompare['operator'], CompareResult> = {
  '=': 'equal',
  '!=': 'notEqual',
  '<': 'less',
  '>': 'greater',
};

function compareToKv(compare: StoreCompare): Compare {
  const base = { key: compare.key, target: compare.target, result: RESULT_OF_OPERATOR[compare.operator] };
  return typeof compare.operand === 'number'
    ? { ...base, number: compare.operand }
    : { ...base, value: compare.operand };
}

function opToKv(op: StoreOp): RequestOp {
  switch (op.type) {
    case 'put':
      return { type: 'put', key: op.key, value: op.value, lease: op.lease };
    case 'delete':
      return {
        type: 'deleteRange',
        key: op.range.start,
        ...(op.range.end === undefined ? {} : { rangeEnd: op.range.end }),
      };
    case 'get':
      return { type: 'range', key: op.key, limit: 1 };
    default:
      return assertNever(op, 'txn operation');
  }
}

function resultFromKv(response: ResponseOp): StoreOpResult {
  switch (response.type) {
    case 'put':
      return { type: 'put' };
    case 'deleteRange':
      return { type: 'delete', deleted: response.deleted };
    case 'range':
      return { type: 'get', kv: response.kvs[0] };
    case 'txn':
      // The control plane never sends nested txns.
      throw new ControlUnavailableError('a nested txn answer arrived for a flat txn');
    default:
      return assertNever(response, 'txn response');
  }
}

/** A node watcher seen as a store watch: one event at a time, its cancellations typed. */
class InProcessWatch implements StoreWatch {
  private pending: StoreEvent[] = [];
  private closed = false;

  constructor(private readonly watcher: Watcher) {}

  async next(): Promise<StoreEvent | undefined> {
    for (;;) {
      const event = this.pending.shift();
      if (event !== undefined) return event;
      if (this.closed) return undefined;
      const { value, done } = await this.watcher.next();
      if (this.closed || done === true) return undefined;
      this.take(value);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    if (!this.watcher.canceled) this.watcher.cancel();
  }

  private take(response: WatchResponse): void {
    if (response.canceled === true) {
      if (response.compactRevision !== undefined) {
        throw new ControlCompactedError(response.compactRevision);
      }
      // Cancelled by the node (a reader too slow for its buffer): the caller resumes it.
      throw new ControlUnavailableError(
        `watch cancelled by the node: ${response.cancelReason ?? 'no reason'}`,
      );
    }
    for (const event of response.events) this.pending.push({ type: event.type, kv: event.kv });
  }
}

/** A key whose count answers the store's revision after a read barrier. */
const REVISION_KEY = new Uint8Array([0]);

export class InProcessStore implements ControlStore {
  readonly kind = 'in-process' as const;

  constructor(private readonly backend: KvBackend) {}

  /**
   * Linearizable, as the etcd store's: a node's own revision may lag a write this plane just made
   * through it (a follower answers a forwarded write once the leader applied it), and a watch
   * started from that lagging revision would deliver the write it was meant to follow.
   */
  async currentRevision(): Promise<number> {
    return mapFailure({ operation: 'revision' }, async () => {
      const answer = await this.backend.range({ type: 'range', key: REVISION_KEY, countOnly: true });
      return answer.header.revision;
    });
  }

  range(range: StoreRange, options: { limit: number; revision: number }): Promise<StoreRangeAnswer> {
    return mapFailure({ operation: 'range', revision: options.revision }, async () => {
      const answer = await this.backend.range({
        type: 'range',
        key: range.start,
        ...(range.end === undefined ? {} : { rangeEnd: range.end }),
        limit: options.limit,
        revision: options.revision,
      });
      return { kvs: answer.kvs, revision: answer.header.revision, more: answer.more };
    });
  }

  put(key: Uint8Array, value: Uint8Array, lease: number): Promise<number> {
    return mapFailure({ operation: 'put', leaseId: lease }, async () => {
      const answer = await this.backend.execute({ type: 'put', key, value, lease });
      return answer.header.revision;
    });
  }

  deleteRange(range: StoreRange): Promise<{ revision: number; deleted: number }> {
    return mapFailure({ operation: 'delete' }, async () => {
      const answer = await this.backend.execute({
        type: 'deleteRange',
        key: range.start,
        ...(range.end === undefined ? {} : { rangeEnd: range.end }),
      });
      return { revision: answer.header.revision, deleted: answer.deleted };
    });
  }

  txn(request: StoreTxn): Promise<StoreTxnAnswer> {
    return mapFailure({ operation: 'txn' }, async () => {
      const answer = await this.backend.execute({
        type: 'txn',
        compare: request.compare.map(compareToKv),
        success: request.success.map(opToKv),
        failure: request.failure.map(opToKv),
      });
      return {
        succeeded: answer.succeeded,
        revision: answer.header.revision,
        results: answer.responses.map(resultFromKv),
      };
    });
  }

  async watch(range: StoreRange, startRevision: number): Promise<StoreWatch> {
    return mapFailure({ operation: 'watch', revision: startRevision }, async () => {
      const watcher = this.backend.watch({
        key: range.start,
        ...(range.end === undefined ? {} : { rangeEnd: range.end }),
        startRevision,
      });
      return new InProcessWatch(watcher);
    });
  }

  leaseGrant(ttlSeconds: number): Promise<{ id: number; ttlSeconds: number }> {
    return mapFailure({ operation: 'lease grant' }, async () => {
      const answer = await this.backend.execute({ type: 'leaseGrant', id: 0, ttlSeconds });
      return { id: answer.id, ttlSeconds: answer.ttlSeconds };
    });
  }

  leaseRevoke(id: number): Promise<void> {
    return mapFailure({ operation: 'lease revoke', leaseId: id }, async () => {
      await this.backend.execute({ type: 'leaseRevoke', id });
    });
  }

  leaseRenew(id: number): Promise<number> {
    return mapFailure({ operation: 'lease renew', leaseId: id }, () => this.backend.leaseKeepAlive(id));
  }

  leaseTimeToLive(id: number): Promise<{ ttlSeconds: number; grantedTtlSeconds: number }> {
    return mapFailure({ operation: 'lease time-to-live', leaseId: id }, async () => {
      const answer = await this.backend.leaseTimeToLive(id, false);
      return { ttlSeconds: answer.ttlSeconds, grantedTtlSeconds: answer.grantedTtlSeconds };
    });
  }

  /** The node belongs to its owner; the plane only stops using it. */
  async close(): Promise<void> {}
}
