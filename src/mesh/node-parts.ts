/**
 * What the services of a node (voter or worker) share: the parts each one opens for the ones
 * after it, the settings both roles have, and the services' names.
 */
import type { Registry } from 'prom-client';
import type { DaemonsBackend } from '../api/daemons-backend.js';
import type { ChainsBackend, ClientTlsRefusals } from '../api/index.js';
import type { AuthRefusals } from '../auth/index.js';
import type { ChainCoordinator, ChainHost, ChainMessage, ProximityMatrix } from '../chains/index.js';
import type { ControlPlane } from '../control/index.js';
import { type Address, assert, type Clock, type Disk, type Logger, type Random } from '../lib/index.js';
import type {
  AdminStatusSource,
  NodeApplyResult,
  NodeStateMachine,
  PeerChannels,
  RaftKvBackend,
  RaftNode,
} from '../server/index.js';
import type { PeerTransport, TlsMaterial } from '../transport/index.js';
import type { AuditFeed } from './audit-feed.js';
import type { BlobsNode } from './blob-node.js';
import type { ChainRequestCounters } from './chain-requests.js';
import type { ClientPortTlsFiles } from './client-tls-files.js';
import type { DaemonMembers } from './daemon-members.js';
import type { DataDirectoryLock } from './data-directory-lock.js';
import type { LeaderChanges } from './leader-changes.js';
import type { MaintenanceView } from './maintenance-view.js';
import type { Membership } from './membership.js';
import type { MembershipConfig } from './membership-config.js';
import type { NodeMetrics } from './metrics.js';
import type { NodeIdentity } from './node-identity.js';
import type { ProximityParts } from './proximity-service.js';
import type { ReconcileHub } from './reconcile-hub.js';
import type { Reconciler } from './reconciler.js';

/** What the services opened so far, for the services that depend on them. */
export interface NodeParts {
  lock?: DataDirectoryLock;
  identity?: NodeIdentity;
  tls?: TlsMaterial;
  transport?: PeerTransport;
  channels?: PeerChannels;
  peerAddress?: Address;
  raft?: RaftNode<NodeApplyResult>;
  machine?: NodeStateMachine;
  backend?: RaftKvBackend;
  metrics?: NodeMetrics;
  /** The leader changes this voter saw (kept across restarts of its Raft service). */
  leaderChanges?: LeaderChanges;
  /** The ports actually bound; a restarted service binds the same one again. */
  clientAddress?: Address;
  /** Whether the cluster's auth is on, as a worker's client port last asked its control plane. */
  workerAuthStatus?: () => Promise<{ readonly enabled: boolean }>;
  /** A worker's client port's auth refusals by code (kept across restarts of the port, for `/metrics`). */
  callerRefusals?: AuthRefusals;
  /** The client port's TLS refusals by reason (kept across restarts of the port, for `/metrics`). */
  clientTlsRefusals?: ClientTlsRefusals;
  adminAddress?: Address;
  controlPlane?: ControlPlane;
  membership?: Membership;
  proximity?: ProximityParts;
  /** The chains service's host and the requests the client port serves through it. */
  chainHost?: ChainHost<ChainMessage>;
  chains?: ChainsBackend;
  chainCoordinator?: ChainCoordinator;
  /** The daemons service's backend (deploy, send, ...), which the client port serves. */
  daemons?: DaemonsBackend;
  /** The members of deployed daemons this node runs (the reconcile service reports them). */
  daemonMembers?: DaemonMembers;
  /** Where the node's parts plug into the reconcile service (made on first use, never removed). */
  reconcileHub?: ReconcileHub;
  /** The reconcile service's reconciler, while the service runs. */
  reconciler?: Reconciler;
  /** Every node's maintenance state, which placement asks (the maintenance service's). */
  maintenance?: MaintenanceView;
  /** The reconcile service's audit recorder of the terms this node holds, while the service runs. */
  auditFeed?: AuditFeed;
  /** The blobs service's node (store, copies, heat), which the client port and the blobs owner use. */
  blobs?: BlobsNode;
  /** The shared RTT matrix, while the node follows one (chains fall back to membership's view). */
  proximityMatrix?: () => ProximityMatrix | undefined;
}

/** The part `key`, which a service this one depends on has opened. */
export function part<K extends keyof NodeParts>(parts: NodeParts, key: K): NonNullable<NodeParts[K]> {
  const value = parts[key];
  assert(value !== undefined, `node part '${key}' is used before the service that opens it is ready`);
  return value as NonNullable<NodeParts[K]>;
}

/** The settings voters (`MeshNodeConfig`) and workers (`WorkerNodeConfig`) both have. */
export interface CommonNodeConfig {
  readonly clusterId: string;
  readonly dataDirectory: string;
  readonly peerAddress: Address;
  /** The client port: etcd's API and MeshOS's services on voters, MeshOS's services on workers. */
  readonly clientAddress: Address;
  readonly adminAddress: Address;
  readonly certificateDirectory?: string;
  readonly insecure: boolean;
  /** TLS on the client port (`--cert-file`, `--key-file`, ...); plaintext without it. */
  readonly clientTls?: ClientPortTlsFiles;
  readonly membership?: MembershipConfig;
  /** How long a node must be gone before the chain coordinator replaces its replicas. */
  readonly chainRepairGraceMs?: number;
  /** How long a member's node must be gone before the reconciler re-places the member. */
  readonly daemonRepairGraceMs?: number;
  /** `--blob-orphan-grace-ms`: a copy no blob record names is deleted after this long (default 10 min). */
  readonly blobOrphanGraceMs?: number;
  /** `--daemon-checkpoint-events`: a member checkpoints every this many records (default 1,000). */
  readonly daemonCheckpointEvents?: number;
  /** `--chain-segment-bytes`: chain logs on this node seal a segment at this size (default 16 MiB). */
  readonly chainSegmentBytes?: number;
  /** Absolute paths of `--daemon-module` files whose kinds the daemons service runs. */
  readonly daemonModules?: readonly string[];
}

/** What the services both roles run are built from. */
export interface CommonServiceContext {
  readonly config: CommonNodeConfig;
  readonly parts: NodeParts;
  readonly disk: Disk;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** The lock the caller took already (`meshos join`), adopted instead of taken. */
  readonly heldLock?: DataDirectoryLock;
  /** What `/status`, `/health` and `/ready` answer, and the test-only crash endpoint. */
  readonly adminSource: AdminStatusSource;
  /** The registry `/metrics` serves (read once the services it depends on run). */
  readonly registry: () => Registry;
  /** What the chains service counts, kept across its restarts for `/metrics`. */
  readonly chainCounters?: ChainRequestCounters;
}

/** Service names, as `/status` shows them and tests crash them. */
export const SERVICE = {
  lock: 'data-directory-lock',
  identity: 'identity',
  transport: 'peer-transport',
  raft: 'raft',
  etcdApi: 'etcd-api',
  /** A worker's client port (a voter's is `etcd-api`). */
  clientPort: 'client-port',
  admin: 'admin-http',
  controlPlane: 'control-plane',
  membership: 'membership',
  chains: 'chains',
  proximity: 'proximity',
  daemons: 'daemons',
  reconcile: 'reconcile',
  maintenance: 'maintenance',
  blobs: 'blobs',
} as const;
