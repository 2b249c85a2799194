/**
 * `meshos.v1.Chains` messages <-> the `ChainsBackend`'s values. Requests are checked here, every
 * problem at once, and refused with VALIDATION_FAILED (INVALID_ARGUMENT on the wire).
 */
import type { ChainRetention, ChainSyncPolicy } from '../chains/index.js';
import { InputProblems } from '../lib/index.js';
import {
  ACKS_PB,
  type Int64Out,
  type PbAppendRequest,
  type PbAppendResponse,
  type PbAppendStreamRequest,
  type PbChainRecord,
  type PbChainReplica,
  type PbChainStatus,
  type PbChainSummary,
  type PbCreateChainRequest,
  type PbReadRequest,
  type PbReadResponse,
  type PbSubscribeRequest,
} from '../protocol/index.js';
import type {
  ChainAppendResult,
  ChainCreateInput,
  ChainReadResult,
  ChainRecord,
  ChainReplicaStatus,
  ChainStatus,
  ChainSummary,
} from './chains-backend.js';
import { requiredName, safeIntegerField } from './convert-numbers.js';
import {
  DEFAULT_CHAIN_APPEND_TIMEOUT_MS,
  DEFAULT_CHAIN_READ_LIMIT_RECORDS,
  DEFAULT_CHAIN_READ_MAX_BYTES,
  MAX_CHAIN_APPEND_BATCH_RECORDS,
  MAX_CHAIN_READ_LIMIT_RECORDS,
  MAX_CHAIN_READ_MAX_BYTES,
} from './limits.js';

export function createInputFromPb(request: PbCreateChainRequest): ChainCreateInput {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  if (request.replicas < 1) problems.add('replicas must be at least 1');
  const acks =
    request.acks === 'ACKS_UNSPECIFIED' || request.acks === 0 ? 'quorum' : ACKS_PB.fromPb(request.acks);
  if (acks === undefined) problems.add(`acks ${String(request.acks)} is not one, quorum or all`);
  const sync = syncFromPb(problems, request);
  const retention: { maxBytes?: number; maxAgeMs?: number } = {};
  const maxBytes = safeIntegerField(problems, 'retention_max_bytes', request.retention_max_bytes);
  const maxAgeMs = safeIntegerField(problems, 'retention_max_age_ms', request.retention_max_age_ms);
  if (maxBytes > 0) retention.maxBytes = maxBytes;
  if (maxAgeMs > 0) retention.maxAgeMs = maxAgeMs;
  problems.throwIfAny('create chain request');
  return {
    name,
    replicas: request.replicas,
    acks: acks ?? 'quorum',
    ...(sync === undefined ? {} : { sync }),
    ...(maxBytes > 0 || maxAgeMs > 0 ? { retention: retention as ChainRetention } : {}),
    ...(request.max_record_bytes > 0 ? { maxRecordBytes: request.max_record_bytes } : {}),
  };
}

function syncFromPb(problems: InputProblems, request: PbCreateChainRequest): ChainSyncPolicy | undefined {
  const intervalMs = safeIntegerField(problems, 'sync_interval_ms', request.sync_interval_ms);
  switch (request.sync_mode) {
    case 'SYNC_INTERVAL':
    case 2:
      if (intervalMs <= 0) problems.add('sync_interval_ms must be positive with SYNC_INTERVAL');
      return { mode: 'interval', intervalMs };
    case 'SYNC_UNSPECIFIED':
    case 0:
    case 'SYNC_BATCH':
    case 1:
      if (intervalMs !== 0) problems.add('sync_interval_ms is only allowed with SYNC_INTERVAL');
      return request.sync_mode === 'SYNC_BATCH' || request.sync_mode === 1 ? { mode: 'batch' } : undefined;
    default:
      problems.add(`sync_mode ${String(request.sync_mode)} is not SYNC_BATCH or SYNC_INTERVAL`);
      return undefined;
  }
}

export function chainNameFromPb(request: { readonly name: string }): string {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  problems.throwIfAny('chain request');
  return name;
}

export function appendRequestFromPb(request: PbAppendRequest): {
  name: string;
  payloads: readonly Uint8Array[];
} {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  if (request.payloads.length === 0) problems.add('payloads is empty: an append carries at least one record');
  if (request.payloads.length > MAX_CHAIN_APPEND_BATCH_RECORDS) {
    problems.add(
      `${request.payloads.length} payloads is more than the ${MAX_CHAIN_APPEND_BATCH_RECORDS} one append may carry`,
    );
  }
  problems.throwIfAny('append request');
  return { name, payloads: request.payloads };
}

/** One append of an AppendStream: the Append checks, and its timeout (0: the default). */
export function appendStreamRequestFromPb(request: PbAppendStreamRequest): {
  name: string;
  payloads: readonly Uint8Array[];
  timeoutMs: number;
} {
  const { name, payloads } = appendRequestFromPb(request);
  return {
    name,
    payloads,
    timeoutMs: request.timeout_ms === 0 ? DEFAULT_CHAIN_APPEND_TIMEOUT_MS : request.timeout_ms,
  };
}

export function readRequestFromPb(request: PbReadRequest): {
  name: string;
  fromOffset: number;
  limit: number;
  maxBytes: number;
} {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  const fromOffset = safeIntegerField(problems, 'from_offset', request.from_offset);
  if (request.limit > MAX_CHAIN_READ_LIMIT_RECORDS) {
    problems.add(`limit ${request.limit} is more than ${MAX_CHAIN_READ_LIMIT_RECORDS} records`);
  }
  if (request.max_bytes > MAX_CHAIN_READ_MAX_BYTES) {
    problems.add(`max_bytes ${request.max_bytes} is more than ${MAX_CHAIN_READ_MAX_BYTES}`);
  }
  problems.throwIfAny('read request');
  return {
    name,
    fromOffset,
    limit: request.limit === 0 ? DEFAULT_CHAIN_READ_LIMIT_RECORDS : request.limit,
    maxBytes: request.max_bytes === 0 ? DEFAULT_CHAIN_READ_MAX_BYTES : request.max_bytes,
  };
}

export function subscribeRequestFromPb(request: PbSubscribeRequest): { name: string; fromOffset: number } {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  const fromOffset = safeIntegerField(problems, 'from_offset', request.from_offset);
  problems.throwIfAny('subscribe request');
  return { name, fromOffset };
}

function replicaToPb(replica: ChainReplicaStatus): PbChainReplica<Int64Out> {
  return { node: replica.node, offset: replica.offset, lag: replica.lag, healthy: replica.healthy };
}

export function chainStatusToPb(status: ChainStatus): PbChainStatus<Int64Out> {
  return {
    name: status.name,
    epoch: status.epoch,
    leader: status.leader,
    acks: ACKS_PB.toPb[status.acks],
    replicas: status.replicas.map(replicaToPb),
    learners: (status.learners ?? []).map(replicaToPb),
    commit_offset: status.commitOffset,
    start_offset: status.startOffset,
    epoch_start_offset: status.epochStartOffset ?? 0,
    leader_view: status.epochStartOffset !== undefined,
  };
}

export function chainSummaryToPb(summary: ChainSummary): PbChainSummary<Int64Out> {
  return {
    name: summary.name,
    epoch: summary.epoch,
    leader: summary.leader,
    acks: ACKS_PB.toPb[summary.acks],
    replicas: [...summary.replicas],
  };
}

export function appendResultToPb(result: ChainAppendResult): PbAppendResponse<Int64Out> {
  return { epoch: result.epoch, first_offset: result.firstOffset, last_offset: result.lastOffset };
}

export function chainRecordToPb(record: ChainRecord): PbChainRecord<Int64Out> {
  return {
    offset: record.offset,
    epoch: record.epoch,
    appended_at_ms: record.appendedAtMs,
    payload: record.payload,
  };
}

export function readResultToPb(result: ChainReadResult): PbReadResponse<Int64Out> {
  return {
    records: result.records.map(chainRecordToPb),
    next_offset: result.nextOffset,
    commit_offset: result.commitOffset,
  };
}
