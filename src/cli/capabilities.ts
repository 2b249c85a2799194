/** What this build of MeshOS really contains; `meshos` prints it and the README mirrors it. */
export interface Capability {
  readonly area: string;
  readonly status: 'built' | 'in progress' | 'planned';
  readonly summary: string;
}

export const CAPABILITIES: readonly Capability[] = [
  {
    area: 'foundation',
    status: 'built',
    summary: 'IO seams (Clock, Random, Disk, Network), typed errors, logging, benchmarks',
  },
  {
    area: 'raft',
    status: 'in progress',
    summary: 'pure Raft core: elections, replication, snapshots, membership, reads',
  },
  {
    area: 'sim',
    status: 'in progress',
    summary: 'seeded whole-cluster simulation with faults and a linearizability checker',
  },
  {
    area: 'store',
    status: 'in progress',
    summary: 'write-ahead log segments, hard state, snapshots, recovery',
  },
  {
    area: 'kv',
    status: 'in progress',
    summary: 'MVCC key-value state machine: txn, watch, leases, compaction',
  },
  { area: 'transport', status: 'in progress', summary: 'framed peer links over TCP and mutual TLS 1.3' },
  { area: 'server', status: 'planned', summary: 'RaftNode host, client API, admin HTTP port, local cluster' },
  { area: 'etcd API', status: 'planned', summary: 'etcd v3 gRPC API and side-by-side benchmarks' },
  {
    area: 'supervisor',
    status: 'in progress',
    summary: 'AppSpec compiled to start/stop plans, live supervisor',
  },
  {
    area: 'compute',
    status: 'in progress',
    summary: 'daemons on causal chains, standby, replica and fork groups',
  },
  { area: 'election', status: 'planned', summary: 'nearest-RTT leader choice for per-channel logs' },
  {
    area: 'reconcile',
    status: 'planned',
    summary: 'desired vs observed state to actions, executor, maintenance',
  },
];
