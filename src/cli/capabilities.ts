/**
 * What this build of MeshOS really contains; `meshos capabilities` prints it and the README
 * mirrors it. `running`: a running node uses it and a user reaches it from the CLI or a client.
 * `part`: a tested library that no node runs yet. `planned`: not built.
 */
export interface Capability {
  readonly area: string;
  readonly status: 'running' | 'part' | 'planned';
  readonly summary: string;
}

export const CAPABILITIES: readonly Capability[] = [
  {
    area: 'foundation',
    status: 'running',
    summary: 'IO seams (Clock, Random, Disk, Network), typed errors, logging, benchmarks',
  },
  {
    area: 'raft',
    status: 'running',
    summary: 'pure Raft core: PreVote, CheckQuorum, snapshots, joint consensus, learners, transfer, reads',
  },
  {
    area: 'sim',
    status: 'running',
    summary: 'seeded simulation with network, process, disk and clock faults; linearizability checker',
  },
  {
    area: 'store',
    status: 'running',
    summary: 'write-ahead log segments with CRC32C and group commit, snapshots, recovery',
  },
  {
    area: 'kv',
    status: 'running',
    summary:
      'MVCC key-value state machine: txn, watch, leases, compaction (auto-compaction on the leader), space quota with NOSPACE alarms',
  },
  { area: 'transport', status: 'running', summary: 'framed, batched peer links over TCP and mutual TLS 1.3' },
  {
    area: 'client TLS',
    status: 'running',
    summary:
      'the client port over TLS (--cert-file, --key-file) with client certificates required on request (--trusted-ca-file, --client-cert-auth): refusals counted in /metrics and logged, the certificate CN shown to handlers; meshos certs client; --cacert/--cert/--key on the CLI, tls on the client; etcdctl works (docs/SECURITY.md)',
  },
  {
    area: 'server',
    status: 'running',
    summary: 'RaftNode host, forwarding, admin HTTP, meshos start/join, the local cluster',
  },
  {
    area: 'etcd API',
    status: 'running',
    summary: 'etcd v3 gRPC API checked with etcdctl and the etcd3 client',
  },
  {
    area: 'backup',
    status: 'running',
    summary:
      'etcdctl/meshos snapshot save (file ends with its SHA-256), meshos snapshot status and restore (a new cluster from a file); HashKV and Hash (etcdctl endpoint hashkv); meshos chain backup|restore (a chain definition and records, streamed, SHA-256 checked; new offsets); daemon checkpoints and blobs are not backed up',
  },
  {
    area: 'auth',
    status: 'running',
    summary:
      'etcd auth and roles (meshos and etcdctl auth/user/role, client.auth, --user, or a client certificate CN): scrypt hashes, key-range permissions checked as writes apply, tokens any member accepts, mesh APIs by key (on workers too: --control-plane-user, callers checked through the control plane), refusals in /metrics',
  },
  {
    area: 'client',
    status: 'running',
    summary: 'TypeScript client: leader discovery, exactly-once retries, watch iterators',
  },
  {
    area: 'supervisor',
    status: 'running',
    summary:
      "AppSpec compiled to start/stop plans, live supervisor with OTP semantics; runs each node's services (meshos status --admin)",
  },
  {
    area: 'compute',
    status: 'part',
    summary:
      'library: causal event chains; standby, replica and fork groups inside one process; no node runs these groups (nodes run daemons through the daemons service)',
  },
  {
    area: 'membership',
    status: 'running',
    summary:
      'voter and worker roles (workers on MeshOS voters or an external etcd), nodes registered under kept-alive leases, joins and leaves watched, meshos nodes',
  },
  {
    area: 'control plane',
    status: 'running',
    summary:
      'ControlPlane (get, range, txn, watch, leases): in-process on every voter, over etcd v3 endpoints on workers (MeshOS voters or an external etcd)',
  },
  {
    area: 'proximity',
    status: 'running',
    summary:
      'every node pings every other (1 s): smoothed RTT and health published to proximity/<id>; meshos mesh rtt, peer RTT metrics',
  },
  {
    area: 'chains',
    status: 'running',
    summary:
      'replicated per-channel logs on every node (voters and workers): epochs by compare-and-swap, appends through the client port of any node, voter or worker, to the leader, reads, subscribe, failover in a new epoch; replica repair by the coordinator after a grace period (--chain-repair-grace-ms; shown on processes), a replica lagging past retention joins at the leader’s start; meshos chain, client.chains',
  },
  {
    area: 'daemons',
    status: 'running',
    summary:
      'single daemons, hot-standby groups, replica groups (events by key hash, a lost member rebuilt elsewhere) and fork groups (from a point of a parent daemon history) deployed across nodes (voters and workers): events through any node to the active over an inbound chain, outputs on an output chain, exactly once per client sequence, failover to the most-synced standby by an epoch compare-and-swap that also hands the new active the chains of the daemon, an active fenced by its node lease and by newer epochs, a member whose node is gone past --daemon-repair-grace-ms replaced on another node; member checkpoints on disk (a restart replays only the tail; the inbound chain of a single, standby or fork group is trimmed below the lowest member checkpoint, held by a lagging member and a fork being built, a member back on a fresh disk starting from a checkpoint above the floor; --daemon-checkpoint-events and --chain-segment-bytes; multi-process test), warm standbys, meshos daemon move (six phases, epoch cutover, pause reported), meshos daemon scale NAME --members N (standby and fork groups: the reconciler starts or stops members to match, the active last; daemon status shows the count asked for); built-in counter and journal kinds, --daemon-module; meshos daemon, client.daemons',
  },
  {
    area: 'blobs',
    status: 'running',
    summary:
      'content-addressed blobs on every node: meshos blob put (id = SHA-256, acknowledged once --replicas nodes hold a durable checked copy), get from the nearest holder with fallback, status, list, delete; copies checked before serving, corrupt ones dropped; decaying per-node read heat; client.blobs; the reconciler keeps copy counts, moves hot blobs to their readers (MigrateBlob, ReduceHeat) and drops copies beyond the count (DropBlobCopy, never below it); each node deletes copies no record names after --blob-orphan-grace-ms (docs/BLOBS.md)',
  },
  {
    area: 'reconcile',
    status: 'running',
    summary:
      "one reconciler per mesh under a control-plane lease (another node takes over when its holder dies; a stale holder's writes are fenced): it re-places daemon members and chain replicas whose node is gone past the repair grace (a single daemon restarted elsewhere at a new epoch from its inbound chain), backs crash-looping members off (a crash on create or in process stops the member until it restarts it) and cools them down, keeps the avoid list (meshos node avoid NODE --ttl D --reason TEXT, avoid list, avoid clear: the reconciler marks an operator's request as MarkAvoid, every placement skips the node); records every action and executor event in a hash-linked audit chain (meshos audit [--follow] [verify], meshos actions); /status shows it (docs/RECONCILE.md)",
  },
  {
    area: 'maintenance',
    status: 'running',
    summary:
      'meshos node drain|maintenance enter|exit|status (MaintenanceClient): committed states in the control plane; a draining node takes no placements, moves its actives to synced standbys (daemon move), re-homes its standbys and chain replicas, waits until every blob copy it holds has its replica count on other nodes, ends in Maintenance or DrainFailed with its reason; exit through Recovery (ramp-up) to Active',
  },
  {
    area: 'demo',
    status: 'running',
    summary:
      "npm start (meshos start-local): the local 3-node cluster (nodes that exit are started again) plus a counter standby group, a chain and a small keyed load (--no-demo: the cluster only), reused on a later start; meshos demo failover kills (SIGKILL) the active's node while events flow, prints the failover gap and checks every acknowledged event was counted exactly once, then waits for the node to rejoin (docs/DEMO.md)",
  },
  {
    area: 'deck',
    status: 'running',
    summary:
      'every admin port serves the Deck at /deck (preact + htm bundled at build): mesh with RTT graph, consensus, daemons and groups, chains, actions/audit/backoffs/avoid list, live over SSE (/deck/events), drain/maintenance exit and daemon move with confirmation; admin documents versioned (schemaVersion 1, docs/ADMIN_API.md) and shared with the CLI --json',
  },
];
