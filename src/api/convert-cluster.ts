/** Cluster, Maintenance and Lease messages <-> backend answers. */

import type {
  Int64In,
  Int64Out,
  PbLeaseTimeToLiveResponse,
  PbMember,
  PbResponseHeader,
  PbStatusResponse,
} from '../protocol/index.js';
import { uint64Out, uint64ToBigint } from './convert-numbers.js';
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

/** Member ids are numbers in the backend; an id no number can hold names no member. */
export function memberId(value: Int64In): number {
  const id = uint64ToBigint('ID', value);
  const asNumber = Number(id);
  if (!Number.isSafeInteger(asNumber)) throw new MemberNotFoundError(asNumber);
  return asNumber;
}
