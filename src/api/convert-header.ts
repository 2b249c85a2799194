import type { Int64Out, PbResponseHeader } from '../protocol/index.js';
import { uint64Out } from './convert-numbers.js';
import type { KvBackend } from './kv-backend.js';

/** Every response header carries the cluster, this member, a revision and the Raft term. */
export function responseHeader(
  backend: KvBackend,
  revision: number = backend.currentRevision(),
): PbResponseHeader<Int64Out> {
  return {
    cluster_id: uint64Out(backend.clusterId),
    member_id: uint64Out(backend.memberId),
    revision,
    raft_term: backend.raftTerm(),
  };
}
