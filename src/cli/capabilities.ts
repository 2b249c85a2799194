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
    status: 'built',
    summary: 'pure Raft core: PreVote, CheckQuorum, snapshots, joint consensus, learners, transfer, reads',
  },
  {
    area: 'sim',
    status: 'built',
    summary: 'seeded simulation with network, process, disk and clock faults; linearizability checker',
  },
  {
    area: 'store',
    status: 'built',
    summary: 'write-ahead log segments with CRC32C and group commit, snapshots, recovery',
  },
  { area: 'kv', status: 'built', summary: 'MVCC key-value state machine: txn, watch, leases, compaction' },
  { area: 'transport', status: 'built', summary: 'framed, batched peer links over TCP and mutual TLS 1.3' },
  {
    area: 'server',
    status: 'built',
    summary: 'RaftNode host, forwarding, admin HTTP, meshos start/join, the local cluster',
  },
  {
    area: 'etcd API',
    status: 'built',
    summary: 'etcd v3 gRPC API checked with etcdctl and the etcd3 client',
  },
  {
    area: 'client',
    status: 'built',
    summary: 'TypeScript client: leader discovery, exactly-once retries, watch iterators',
  },
  {
    area: 'supervisor',
    status: 'built',
    summary: 'AppSpec compiled to start/stop plans, live supervisor with OTP semantics',
  },
  { area: 'compute', status: 'built', summary: 'daemons on causal chains; standby, replica and fork groups' },
  { area: 'election', status: 'planned', summary: 'nearest-RTT leader choice for per-channel logs' },
  {
    area: 'reconcile',
    status: 'planned',
    summary: 'desired vs observed state to actions, executor, maintenance',
  },
];
