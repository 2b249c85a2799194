import type { Int64Out, PbResponseHeader, Uint64Halves } from '../protocol/index.js';
import type { KvBackend } from './kv-backend.js';

const UINT32_RANGE = 2n ** 32n;

/** A uint64 id's halves, remembered for the last id asked: a member sends the same cluster id in every header. */
class HalvesOfLast {
  private last: bigint | undefined;
  private halves: Uint64Halves = { low: 0, high: 0, unsigned: true };

  of(value: bigint): Uint64Halves {
    if (value !== this.last) {
      const wrapped = BigInt.asUintN(64, value);
      this.halves = {
        low: Number(wrapped % UINT32_RANGE) | 0,
        high: Number(wrapped / UINT32_RANGE) | 0,
        unsigned: true,
      };
      this.last = value;
    }
    return this.halves;
  }
}

const clusterIdHalves = new HalvesOfLast();

/** Every response header carries the cluster, this member, a revision and the Raft term. */
export function responseHeader(
  backend: KvBackend,
  revision: number = backend.currentRevision(),
): PbResponseHeader<Int64Out> {
  return {
    cluster_id: clusterIdHalves.of(backend.clusterId),
    // A member id is a safe integer (`NodeId`).
    member_id: backend.memberId,
    revision,
    raft_term: backend.raftTerm(),
  };
}
