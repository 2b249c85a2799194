/** `meshos.v1.Chains` answers -> the client's values (the same shapes the node's backend answers). */
import type { ChainRecord, ChainReplicaStatus, ChainStatus, ChainSummary } from '../api/index.js';
import type { AcksPolicy } from '../chains/index.js';
import {
  ACKS_PB,
  type PbChainRecord,
  type PbChainReplica,
  type PbChainStatus,
  type PbChainSummary,
} from '../protocol/index.js';
import { toNumber } from './convert.js';

function acksOf(value: PbChainStatus['acks']): AcksPolicy {
  return ACKS_PB.fromPb(value) ?? 'quorum';
}

function replicaFromPb(pb: PbChainReplica): ChainReplicaStatus {
  return { node: toNumber(pb.node), offset: toNumber(pb.offset), lag: toNumber(pb.lag), healthy: pb.healthy };
}

export function chainStatusFromPb(pb: PbChainStatus): ChainStatus {
  return {
    name: pb.name,
    epoch: toNumber(pb.epoch),
    leader: toNumber(pb.leader),
    acks: acksOf(pb.acks),
    replicas: pb.replicas.map(replicaFromPb),
    ...(pb.learners.length === 0 ? {} : { learners: pb.learners.map(replicaFromPb) }),
    commitOffset: toNumber(pb.commit_offset),
    startOffset: toNumber(pb.start_offset),
    ...(pb.leader_view ? { epochStartOffset: toNumber(pb.epoch_start_offset) } : {}),
  };
}

export function chainSummaryFromPb(pb: PbChainSummary): ChainSummary {
  return {
    name: pb.name,
    epoch: toNumber(pb.epoch),
    leader: toNumber(pb.leader),
    acks: acksOf(pb.acks),
    replicas: pb.replicas.map(toNumber),
  };
}

export function chainRecordFromPb(pb: PbChainRecord): ChainRecord {
  return {
    offset: toNumber(pb.offset),
    epoch: toNumber(pb.epoch),
    appendedAtMs: toNumber(pb.appended_at_ms),
    payload: pb.payload,
  };
}
