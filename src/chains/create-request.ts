/**
 * A request to create a chain, as clients send it (counts and policies, no nodes), checked and
 * completed with defaults. Placement then picks the nodes (placement.ts).
 */
import { InputProblems, isNodeId, type NodeId } from '../lib/index.js';
import { checkChainName, checkOnlyFields, checkRetention, checkSyncPolicy } from './definition-fields.js';
import { DEFAULT_CHAIN_REPLICAS, MAX_CHAIN_REPLICAS } from './definition-limits.js';
import { ChainInvalidError } from './errors.js';
import type { AcksPolicy, ChainRetention, ChainSyncPolicy } from './types.js';

export interface ChainCreateInput {
  readonly name: string;
  /** How many replicas (1 to MAX_CHAIN_REPLICAS); DEFAULT_CHAIN_REPLICAS if unset. */
  readonly replicas?: number;
  readonly acks?: AcksPolicy;
  readonly sync?: ChainSyncPolicy;
  readonly retention?: ChainRetention;
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
  readonly origin?: NodeId;
}

const CREATE_FIELDS = ['name', 'replicas', 'acks', 'sync', 'retention', 'origin'];

/** Every problem with a create request at once; empty when it is valid. */
export function chainCreateProblems(input: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('request', input)) return problems.list;
  checkChainName(problems, input.name);
  if (input.replicas !== undefined) problems.integer('replicas', input.replicas, 1, MAX_CHAIN_REPLICAS);
  if (input.acks !== undefined) problems.oneOf('acks', input.acks, ['one', 'quorum', 'all']);
  if (input.sync !== undefined) checkSyncPolicy(problems, input.sync);
  if (input.retention !== undefined) checkRetention(problems, input.retention);
  if (input.origin !== undefined) problems.nodeId('origin', input.origin);
  checkOnlyFields(problems, 'request', input, CREATE_FIELDS);
  return problems.list;
}

/** The request with its defaults; CHAIN_INVALID listing every problem when it is not valid. */
export function validateChainCreate(input: ChainCreateInput): ChainCreateSpec {
  const problems = chainCreateProblems(input);
  if (problems.length > 0) throw new ChainInvalidError('chain create request', problems);
  return {
    name: input.name,
    replicaCount: input.replicas ?? DEFAULT_CHAIN_REPLICAS,
    acks: input.acks ?? 'quorum',
    sync: input.sync ?? { mode: 'batch' },
    retention: input.retention ?? {},
    ...(isNodeId(input.origin) ? { origin: input.origin } : {}),
  };
}
