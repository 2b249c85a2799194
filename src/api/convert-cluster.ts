/** Cluster, Maintenance and Lease messages <-> backend answers. */
import type { BackendStatus, ClusterMember, LeaseTimeToLiveAnswer } from '../server/index.js';
import { uint64Out } from './convert-numbers.js';
import type { Int64Out, PbMember, PbResponseHeader, PbStatusResponse } from './proto.js';

export function memberToPb(member: ClusterMember): PbMember {
  return {
    ID: uint64Out(member.id),
    name: member.name,
    peerURLs: member.peerUrls,
    clientURLs: member.clientUrls,
    isLearner: member.isLearner,
  };
}

export function statusToPb(status: BackendStatus, header: PbResponseHeader): PbStatusResponse {
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

export interface PbLeaseTimeToLiveResponse {
  readonly header: PbResponseHeader;
  readonly ID: Int64Out;
  readonly TTL: Int64Out;
  readonly grantedTTL: Int64Out;
  readonly keys: readonly Uint8Array[];
}

export function leaseTimeToLiveToPb(
  answer: LeaseTimeToLiveAnswer,
  header: PbResponseHeader,
): PbLeaseTimeToLiveResponse {
  return {
    header,
    ID: answer.id,
    TTL: answer.ttlSeconds,
    grantedTTL: answer.grantedTtlSeconds,
    keys: answer.keys,
  };
}
