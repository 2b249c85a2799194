/**
 * The control plane's store on any etcd v3 endpoint list, through `MeshClient`: MeshOS voters
 * seen from a worker node, or an external etcd cluster. The client finds the leader, retries
 * on another endpoint after a connection loss or a leader change (writes exactly once on
 * MeshOS), and re-creates a broken watch from the revision after the last event it received.
 */
import type { MeshClient, RangeOptions, TxnOp, TxnOpResult, Watch, WatchEvent } from '../client/index.js';
import { assertNever, isMeshError, type Random } from '../lib/index.js';
import { mapFailure } from './error-map.js';
import { ControlUnavailableError } from './errors.js';
import type { StoreRange } from './keys.js';
import { LEASE_GRANT_MAX_ATTEMPTS } from './limits.js';
import type {
  ControlStore,
  StoreEvent,
  StoreOp,
  StoreOpResult,
  StoreRangeAnswer,
  StoreTxn,
  StoreTxnAnswer,
  StoreWatch,
} from './store.js';

const rangeEndOption = (range: StoreRange): { rangeEnd?: Uint8Array } =>
  range.end === undefined ? {} : { rangeEnd: range.end };

function opToClient(op: StoreOp): TxnOp {
  switch (op.type) {
    case 'put':
      return { type: 'put', key: op.key, value: op.value, options: { lease: op.lease } };
    case 'delete':
      return { type: 'delete', key: op.range.start, options: rangeEndOption(op.range) };
    case 'get':
      return { type: 'range', key: op.key, options: { limit: 1 } };
    default:
      return assertNever(op, 'txn operation');
  }
}

function resultFromClient(result: TxnOpResult): StoreOpResult {
  switch (result.type) {
    case 'put':
      return { type: 'put' };
    case 'delete':
      return { type: 'delete', deleted: result.deleted };
    case 'range':
      return { type: 'get', kv: result.kvs[0] };
    case 'txn':
      throw new ControlUnavailableError('a nested txn answer arrived for a flat txn');
    default:
      return assertNever(result, 'txn result');
  }
}

class EtcdWatch implements StoreWatch {
  constructor(private readonly watch: Watch) {}

  next(): Promise<StoreEvent | undefined> {
    return mapFailure({ operation: 'watch' }, async () => {
      const result: IteratorResult<WatchEvent> = await this.watch.next();
      return result.done === true ? undefined : { type: result.value.type, kv: result.value.kv };
    });
  }

  close(): void {
    this.watch.close();
  }
}

export class EtcdStore implements ControlStore {
  readonly kind = 'etcd' as const;

  constructor(
    private readonly client: MeshClient,
    private readonly random: Random,
    /**
     * A key whose count answers the store's revision cheaply: the root itself, so a user whose
     * rights end at the root's prefix (auth on) may read it.
     */
    private readonly revisionKey: Uint8Array,
  ) {}

  currentRevision(): Promise<number> {
    return mapFailure({ operation: 'revision' }, async () => {
      const answer = await this.client.range(this.revisionKey, { countOnly: true });
      return answer.header.revision;
    });
  }

  range(range: StoreRange, options: { limit: number; revision: number }): Promise<StoreRangeAnswer> {
    return mapFailure({ operation: 'range', revision: options.revision }, async () => {
      const request: RangeOptions = {
        ...rangeEndOption(range),
        limit: options.limit,
        revision: options.revision,
      };
      const answer = await this.client.range(range.start, request);
      return { kvs: answer.kvs, revision: answer.header.revision, more: answer.more };
    });
  }

  put(key: Uint8Array, value: Uint8Array, lease: number): Promise<number> {
    return mapFailure({ operation: 'put', leaseId: lease }, async () => {
      const answer = await this.client.put(key, value, { lease });
      return answer.header.revision;
    });
  }

  deleteRange(range: StoreRange): Promise<{ revision: number; deleted: number }> {
    return mapFailure({ operation: 'delete' }, async () => {
      const answer = await this.client.delete(range.start, rangeEndOption(range));
      return { revision: answer.header.revision, deleted: answer.deleted };
    });
  }

  txn(request: StoreTxn): Promise<StoreTxnAnswer> {
    return mapFailure({ operation: 'txn' }, async () => {
      const answer = await this.client.txn({
        compare: request.compare.map((compare) => ({ ...compare })),
        success: request.success.map(opToClient),
        failure: request.failure.map(opToClient),
      });
      return {
        succeeded: answer.succeeded,
        revision: answer.header.revision,
        results: answer.responses.map(resultFromClient),
      };
    });
  }

  watch(range: StoreRange, startRevision: number): Promise<StoreWatch> {
    return mapFailure({ operation: 'watch', revision: startRevision }, async () => {
      const watch = await this.client.watch(range.start, { ...rangeEndOption(range), startRevision });
      return new EtcdWatch(watch);
    });
  }

  /**
   * etcd picks 64-bit lease ids, which JavaScript numbers cannot hold exactly; the plane asks
   * for a random id below 2^53 instead, and draws again if etcd says the id is taken.
   */
  leaseGrant(ttlSeconds: number): Promise<{ id: number; ttlSeconds: number }> {
    return mapFailure({ operation: 'lease grant' }, async () => {
      for (let attempt = 1; ; attempt++) {
        const id = 1 + Math.floor(this.random.nextFloat() * (Number.MAX_SAFE_INTEGER - 1));
        try {
          const answer = await this.client.leaseGrant(ttlSeconds, { id });
          return { id: answer.id, ttlSeconds: answer.ttlSeconds };
        } catch (error) {
          if (!isMeshError(error, 'KV_LEASE_EXISTS') || attempt >= LEASE_GRANT_MAX_ATTEMPTS) throw error;
        }
      }
    });
  }

  leaseRevoke(id: number): Promise<void> {
    return mapFailure({ operation: 'lease revoke', leaseId: id }, async () => {
      await this.client.leaseRevoke(id);
    });
  }

  leaseRenew(id: number): Promise<number> {
    return mapFailure({ operation: 'lease renew', leaseId: id }, async () => {
      const answer = await this.client.leaseKeepAliveOnce(id);
      return answer.ttlSeconds;
    });
  }

  leaseTimeToLive(id: number): Promise<{ ttlSeconds: number; grantedTtlSeconds: number }> {
    return mapFailure({ operation: 'lease time-to-live', leaseId: id }, async () => {
      const answer = await this.client.leaseTimeToLive(id);
      return { ttlSeconds: answer.ttlSeconds, grantedTtlSeconds: answer.grantedTtlSeconds };
    });
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
