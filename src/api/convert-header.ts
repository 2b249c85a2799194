import type { KvBackend } from '../server/index.js';
import { uint64Out } from './convert-numbers.js';
import type { PbResponseHeader } from './proto.js';

/** Every response header carries the cluster, this member, a revision and the Raft term. */
export function responseHeader(
  backend: KvBackend,
  revision: number = backend.currentRevision(),
): PbResponseHeader {
  return {
    cluster_id: uint64Out(backend.clusterId),
    member_id: uint64Out(backend.memberId),
    revision,
    raft_term: backend.raftTerm(),
  };
}
