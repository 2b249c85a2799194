/**
 * A request to create a chain, as clients send it (counts and policies, no nodes), checked and
 * completed with defaults. Placement then picks the nodes (placement.ts).
 */
import { InputProblems, isNodeId, type NodeId, ValidationError } from '../lib/index.js';
import {
  ACKS_POLICIES,
  checkChainName,
  checkMaxRecordBytes,
  checkOnlyFields,
  checkRetention,
  checkSyncPolicy,
} from './definition-fields.js';
import { DEFAULT_CHAIN_REPLICAS, MAX_CHAIN_REPLICAS } from './definition-limits.js';
import type { AcksPolicy, ChainRetention, ChainSyncPolicy } from './types.js';

export interface ChainCreateRequest {
  readonly name: string;
  /** How many replicas (1 to MAX_CHAIN_REPLICAS); DEFAULT_CHAIN_REPLICAS if unset. */
  readonly replicas?: number;
  readonly acks?: AcksPolicy;
  readonly sync?: ChainSyncPolicy;
  readonly retention?: ChainRetention;
  /** Largest payload of one record (1 to MAX_CHAIN_RECORD_BYTES); MAX_CHAIN_RECORD_BYTES if unset. */
  readonly maxRecordBytes?: number;
  /** The node appends are expected from (the leader is chosen nearest to it). */
  readonly origin?: NodeId;
}

/** A checked create request with every default filled in. */
export interface ChainCreateSpec {
  readonly name: string;
  readonly replicaCount: number;
  readonly acks: AcksPolicy;
  readonly sync: ChainSyncPolicy;
  readonly retention: ChainRetention;
  readonly maxRecordBytes?: number;
  readonly origin?: NodeId;
}

const CREATE_FIELDS = ['name', 'replicas', 'acks', 'sync', 'retention', 'maxRecordBytes', 'origin'];

/** Every problem with a create request at once; empty when it is valid. */
export function chainCreateProblems(input: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('request', input)) return problems.list;
  checkChainName(problems, input.name);
  if (input.replicas !== undefined) problems.integer('replicas', input.replicas, 1, MAX_CHAIN_REPLICAS);
  if (input.acks !== undefined) problems.oneOf('acks', input.acks, ACKS_POLICIES);
  if (input.sync !== undefined) checkSyncPolicy(problems, input.sync);
  if (input.retention !== undefined) checkRetention(problems, input.retention);
  if (input.maxRecordBytes !== undefined) checkMaxRecordBytes(problems, input.maxRecordBytes);
  if (input.origin !== undefined) problems.nodeId('origin', input.origin);
  checkOnlyFields(problems, 'request', input, CREATE_FIELDS);
  return problems.list;
}

/** The request with its defaults; VALIDATION_FAILED listing every problem when it is not valid. */
export function validateChainCreate(input: ChainCreateRequest): ChainCreateSpec {
  const problems = chainCreateProblems(input);
  if (problems.length > 0) throw new ValidationError('chain create request', problems);
  return {
    name: input.name,
    replicaCount: input.replicas ?? DEFAULT_CHAIN_REPLICAS,
    acks: input.acks ?? 'quorum',
    sync: input.sync ?? { mode: 'batch' },
    retention: input.retention ?? {},
    ...(input.maxRecordBytes === undefined ? {} : { maxRecordBytes: input.maxRecordBytes }),
    ...(isNodeId(input.origin) ? { origin: input.origin } : {}),
  };
}
