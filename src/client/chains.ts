/**
 * `client.chains`: the `meshos.v1.Chains` service. Any endpoint serves any chain (a node that does
 * not lead it forwards), so calls go wherever the client's endpoint choice points and fail over
 * like every other call. Reads are retried on any transport failure; a write (create, delete,
 * append) only when the failure says it was not applied: an append refused before it was proposed
 * (CHAIN_NOT_LEADER, CHAIN_UNAVAILABLE, CHAIN_OVERLOADED) or one that never left the client.
 * An append whose outcome is unknown is never sent twice. Appends travel on one `AppendStream`
 * per node (chain-append-stream.ts), pipelined, instead of a gRPC call each.
 */
import type { ChainAppendResult, ChainReadResult, ChainStatus, ChainSummary } from '../api/index.js';
import type { AcksPolicy, ChainRetention, ChainSyncPolicy } from '../chains/index.js';
import { payloadBytes, SharedAppends } from '../chains/shared-appends.js';
import {
  ACKS_PB,
  MAX_STREAMED_APPEND_BYTES,
  type PbAppendResponse,
  type PbChainStatus,
  type PbListChainsResponse,
  type PbReadResponse,
} from '../protocol/index.js';
import { toBytes } from './bytes.js';
import { ChainAppendStreams } from './chain-append-stream.js';
import { type ChainCallKind, chainErrorFromGrpc } from './chain-errors.js';
import { ChainSubscription } from './chain-subscription.js';
import { toNumber } from './convert.js';
import { chainRecordFromPb, chainStatusFromPb, chainSummaryFromPb } from './convert-chains.js';
import type { EndpointConnection } from './endpoint.js';
import {
  type ServiceTransport,
  type ServiceUnaryCall,
  serviceCall,
  serviceUnary,
  unaryOn,
} from './service-transport.js';
import type { Bytes, CallOptions } from './types.js';

export interface ChainCreateOptions extends CallOptions {
  /** How many nodes hold a copy. */
  readonly replicas: number;
  /** Defaults to `quorum`. */
  readonly acks?: AcksPolicy;
  /** Defaults to `{mode: 'batch'}`. */
  readonly sync?: ChainSyncPolicy;
  readonly retention?: ChainRetention;
  /** The node's default when absent. */
  readonly maxRecordBytes?: number;
}

export interface ChainReadOptions extends CallOptions {
  /** Defaults to 0. */
  readonly fromOffset?: number;
  /** Most records answered; the node's default (1 000) when absent. */
  readonly limit?: number;
  /** About how many payload bytes; the node's default (1 MiB) when absent. */
  readonly maxBytes?: number;
}

export class ChainsClient {
  /** Appends of one turn to one chain with one timeout share a message. */
  private readonly sharedAppends: SharedAppends<string>;
  /** One append stream per node. */
  private readonly streams: ChainAppendStreams;

  constructor(private readonly transport: ServiceTransport) {
    this.streams = new ChainAppendStreams(transport.clock);
    this.sharedAppends = new SharedAppends(
      (name, payloads, timeoutMs) =>
        this.sendAppend(name, payloads, timeoutMs === undefined ? {} : { timeoutMs }),
      transport.clock,
    );
  }

  /** Creates a chain and answers its status. CHAIN_EXISTS when the name is taken. */
  async create(name: string, options: ChainCreateOptions): Promise<ChainStatus> {
    const sync = options.sync ?? { mode: 'batch' };
    const request = {
      name,
      replicas: options.replicas,
      acks: ACKS_PB.toPb[options.acks ?? 'quorum'],
      sync_mode: sync.mode === 'interval' ? 'SYNC_INTERVAL' : 'SYNC_BATCH',
      sync_interval_ms: sync.mode === 'interval' ? sync.intervalMs : 0,
      retention_max_bytes: options.retention?.maxBytes ?? 0,
      retention_max_age_ms: options.retention?.maxAgeMs ?? 0,
      max_record_bytes: options.maxRecordBytes ?? 0,
    };
    return chainStatusFromPb(await this.unary<PbChainStatus>('change', 'Create', request, options));
  }

  async delete(name: string, options: CallOptions = {}): Promise<void> {
    await this.unary('change', 'Delete', { name }, options);
  }

  /**
   * Appends one record or a batch (consecutive offsets, never split). Resolves once the chain's
   * acks policy is met. CHAIN_APPEND_OUTCOME_UNKNOWN when it may or may not have been written.
   * Appends made in the same turn to the same chain share one message (`SharedAppends`) on the
   * node's append stream.
   */
  async append(
    name: string,
    payloads: Bytes | readonly Bytes[],
    options: CallOptions = {},
  ): Promise<ChainAppendResult> {
    const list = typeof payloads === 'string' || payloads instanceof Uint8Array ? [payloads] : payloads;
    const key = `${options.timeoutMs ?? ''}:${name}`;
    return this.sharedAppends.append(key, name, list.map(toBytes), options.timeoutMs);
  }

  /**
   * One append (a shared batch) through the retry loop: on the node's append stream, or as a
   * unary call when it is too large for a stream message or the node serves no AppendStream.
   */
  private sendAppend(
    name: string,
    payloads: readonly Uint8Array[],
    options: CallOptions,
  ): Promise<ChainAppendResult> {
    const unary = this.appendCall(name, payloads);
    if (payloadBytes(payloads) > MAX_STREAMED_APPEND_BYTES) {
      return serviceCall(this.transport, 'chains.Append', true, options, (connection, deadline) =>
        this.appendUnaryOn(connection, unary, deadline),
      );
    }
    return serviceCall(this.transport, 'chains.AppendStream', true, options, async (connection, deadline) => {
      const stream = this.streams.to(connection);
      if (stream !== undefined) {
        try {
          return await stream.append(name, payloads, deadline.getTime() - Date.now());
        } catch (error) {
          // An older node refused the stream before reading anything: go unary there.
          if (!this.streams.refuses(connection.address)) throw error;
        }
      }
      return this.appendUnaryOn(connection, unary, deadline);
    });
  }

  private appendCall(name: string, payloads: readonly Uint8Array[]): ServiceUnaryCall {
    return {
      service: 'chains',
      method: 'Append',
      request: { name, payloads },
      errorOf: (error, address) => chainErrorFromGrpc(error, address, 'append'),
      changes: true,
    };
  }

  private async appendUnaryOn(
    connection: EndpointConnection,
    call: ServiceUnaryCall,
    deadline: Date,
  ): Promise<ChainAppendResult> {
    const pb = await unaryOn<PbAppendResponse>(connection, call, deadline);
    return {
      epoch: toNumber(pb.epoch),
      firstOffset: toNumber(pb.first_offset),
      lastOffset: toNumber(pb.last_offset),
    };
  }

  /** Ends the append streams: `MeshClient.close()` calls it. */
  close(): void {
    this.streams.closeAll();
  }

  /** Committed records from `fromOffset`; `nextOffset` is where the next read continues. */
  async read(name: string, options: ChainReadOptions = {}): Promise<ChainReadResult> {
    const request = {
      name,
      from_offset: options.fromOffset ?? 0,
      limit: options.limit ?? 0,
      max_bytes: options.maxBytes ?? 0,
    };
    const pb = await this.unary<PbReadResponse>('read', 'Read', request, options);
    return {
      records: pb.records.map(chainRecordFromPb),
      nextOffset: toNumber(pb.next_offset),
      commitOffset: toNumber(pb.commit_offset),
    };
  }

  /**
   * Committed records from `fromOffset` on, as they commit: iterate with `for await`; `break` or
   * `close()` ends it. A lost connection is resumed, on another endpoint if need be, from the
   * record after the last one delivered, so no record is skipped or repeated.
   */
  subscribe(name: string, options: { fromOffset?: number } = {}): ChainSubscription {
    this.transport.checkOpen();
    return new ChainSubscription(name, options.fromOffset ?? 0, this.transport);
  }

  async status(name: string, options: CallOptions = {}): Promise<ChainStatus> {
    return chainStatusFromPb(await this.unary<PbChainStatus>('read', 'Status', { name }, options));
  }

  /** Every chain, by name. */
  async list(options: CallOptions = {}): Promise<readonly ChainSummary[]> {
    const pb = await this.unary<PbListChainsResponse>('read', 'List', {}, options);
    return pb.chains.map(chainSummaryFromPb);
  }

  private unary<Response>(
    kind: ChainCallKind,
    method: string,
    request: object,
    options: CallOptions,
  ): Promise<Response> {
    return serviceUnary<Response>(
      this.transport,
      {
        service: 'chains',
        method,
        request,
        errorOf: (error, address) => chainErrorFromGrpc(error, address, kind),
        changes: kind !== 'read',
      },
      options,
    );
  }
}
