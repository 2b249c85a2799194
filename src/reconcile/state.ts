/**
 * What reconcile compares: the observed state (gathered from the control plane and the nodes'
 * reports) and the desired state (what operators asked for). Times in both are wall-clock
 * milliseconds, since they come over the wire; see time.ts for the in-process side.
 */
import type { NodeId } from '../lib/index.js';
import type { PendingAction } from './actions.js';
import type { MaintenanceRequest, MaintenanceState } from './maintenance.js';

/** `healthy`: registered and answering; `suspect`: registered, not answering; `down`: lease expired. */
export type NodeHealth = 'healthy' | 'suspect' | 'down';

/** One member of a daemon's group on one node. */
export interface ObservedDaemon {
  readonly name: string;
  /** False while it waits for a (re)start: after a crash, or started and not yet ready. */
  readonly running: boolean;
  /** Its recent crashes, oldest first (at most MAX_CRASH_TIMES_KEPT). */
  readonly crashTimesWallMs: readonly number[];
  /** The committed backoff: no restart before this. */
  readonly backoffUntilWallMs?: number;
  /** It takes the daemon's events (its active): of extra members it is stopped last. */
  readonly serving?: boolean;
}

/** One chain replica a node holds. */
export interface ObservedReplica {
  readonly chain: string;
  /** Records behind the chain's leader (0 on the leader itself). */
  readonly lagRecords: number;
}

export interface ObservedNode {
  readonly id: NodeId;
  readonly health: NodeHealth;
  /** When it went down (set with `health: 'down'`); its copies are replaced DOWN_NODE_GRACE_MS later. */
  readonly downSinceWallMs?: number;
  readonly zone: string;
  /** The most daemon members and chain replicas it takes. */
  readonly capacity: { readonly daemons: number; readonly chains: number };
  /** Its reported utilisation in [0, 1]: breaks placement ties between equally full nodes. */
  readonly load: number;
  readonly maintenance: MaintenanceState;
  readonly daemons: readonly ObservedDaemon[];
  readonly replicas: readonly ObservedReplica[];
}

/** A chain as the control plane records it. */
export interface ObservedChain {
  readonly name: string;
  /** Its replica set (holders and those being caught up). */
  readonly members: readonly NodeId[];
  /** The replica leading the current epoch, when one does. */
  readonly leader?: NodeId;
}

/** A content-addressed blob: who holds it and how hot its reads run. */
export interface ObservedBlob {
  readonly id: string;
  readonly holders: readonly NodeId[];
  /** Decayed read count over every reader. */
  readonly heat: number;
  /** The node reading it most, when any reads it. */
  readonly hottestReader?: NodeId;
}

/** One proximity row entry: `from` measured `rttMs` to `to`. */
export interface RttRow {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly rttMs: number;
}

/** A peer placement skips until `untilWallMs`. */
export interface AvoidEntry {
  readonly node: NodeId;
  readonly reason: string;
  readonly untilWallMs: number;
}

export interface ObservedState {
  readonly nodes: readonly ObservedNode[];
  readonly chains: readonly ObservedChain[];
  readonly blobs: readonly ObservedBlob[];
  readonly rtt: readonly RttRow[];
  readonly avoid: readonly AvoidEntry[];
  /** Actions emitted and not finished (queued or in flight): reconcile counts on their effect. */
  readonly pending: readonly PendingAction[];
}

export interface DaemonSpec {
  readonly name: string;
  /** Members of its group, each on its own node. */
  readonly members: number;
}

export interface ChainSpec {
  readonly name: string;
  readonly replicas: number;
}

export interface BlobSpec {
  readonly id: string;
  readonly replicas: number;
}

export interface DesiredState {
  readonly daemons: readonly DaemonSpec[];
  readonly chains: readonly ChainSpec[];
  readonly blobs: readonly BlobSpec[];
  readonly maintenance: readonly MaintenanceRequest[];
  /** Operators' avoid requests (`meshos node avoid`): each node avoided until its time. */
  readonly avoid?: readonly AvoidRequest[];
}

/** An operator asks placement to skip `node` until `untilWallMs`. */
export interface AvoidRequest {
  readonly node: NodeId;
  readonly reason: string;
  readonly untilWallMs: number;
}
