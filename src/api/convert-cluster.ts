/** Cluster, Maintenance and Lease messages <-> backend answers. */

import type { NodeId } from '../lib/index.js';
import type {
  Int64In,
  Int64Out,
  PbLeaseTimeToLiveResponse,
  PbMember,
  PbResponseHeader,
  PbStatusResponse,
} from '../protocol/index.js';
import { uint64Out, uint64ToBigint, uint64ToNodeId } from './convert-numbers.js';
import { MemberNotFoundError } from './errors.js';
import type { BackendStatus, ClusterMember, LeaseTimeToLiveAnswer } from './kv-backend.js';

export function memberToPb(member: ClusterMember): PbMember {
  return {
    ID: uint64Out(member.id),
    name: member.name,
    peerURLs: member.peerUrls,
    clientURLs: member.clientUrls,
    isLearner: member.isLearner,
  };
}

export function statusToPb(
  status: BackendStatus,
  header: PbResponseHeader<Int64Out>,
): PbStatusResponse<Int64Out> {
  return {
    header,
    version: status.version,
    dbSize: status.dbSizeBytes,
    leader: uint64Out(status.leaderId),
    raftIndex: status.raftIndex,
    raftTerm: status.raftTerm,
    raftAppliedIndex: status.raftAppliedIndex,
    errors: status.errors,
    dbSizeInUse: status.dbSizeBytes,
    isLearner: status.isLearner,
  };
}

export function leaseTimeToLiveToPb(
  answer: LeaseTimeToLiveAnswer,
  header: PbResponseHeader<Int64Out>,
): PbLeaseTimeToLiveResponse<Int64Out> {
  return {
    header,
    ID: answer.id,
    TTL: answer.ttlSeconds,
    grantedTTL: answer.grantedTtlSeconds,
    keys: answer.keys,
  };
}

/**
 * A member id from the wire (uint64) as the `NodeId` the backend names members by. A uint64
 * that is no `NodeId` (0, or beyond 2^53-1) names no member, as etcd answers for an unknown id.
 */
export function memberId(value: Int64In): NodeId {
  const id = uint64ToNodeId('ID', value);
  if (id === undefined) throw new MemberNotFoundError(uint64ToBigint('ID', value).toString());
  return id;
}
