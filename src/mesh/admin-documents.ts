/**
 * The documents the admin port serves and the CLI's `--json` prints (docs/ADMIN_API.md): one
 * type per document, each with `schemaVersion`. The schema they are checked against is
 * `admin-schema.ts`; a field added keeps the version, a field removed or changed bumps it.
 */
import type { ChainStatus } from '../api/index.js';
import type { DaemonStatus } from '../daemons/index.js';
import type { NodeId } from '../lib/index.js';
import type { MaintenanceState } from '../reconcile/index.js';
import type { ActionsReport } from './audit-actions.js';
import type { AuditRecord } from './audit-record.js';
import type { MaintenanceStatus } from './maintenance-client.js';
import type { NodesReport } from './membership.js';
import type { RttReport } from './proximity-service.js';

export const ADMIN_SCHEMA_VERSION = 1;

export interface Versioned {
  readonly schemaVersion: typeof ADMIN_SCHEMA_VERSION;
}

export const versioned = <T extends object>(document: T): T & Versioned => ({
  schemaVersion: ADMIN_SCHEMA_VERSION,
  ...document,
});

/** `GET /nodes`: every registered node as the answering node's membership sees it. */
export type NodesDocument = NodesReport & Versioned;

/** `GET /mesh/rtt`, `meshos mesh rtt --json`: the published RTT rows. */
export type RttDocument = RttReport & Versioned;

/** A leader change this node saw (its own ring, newest last). */
export interface LeaderChange {
  readonly term: number;
  /** 0: no leader known (an election is running). */
  readonly leaderId: NodeId | 0;
  readonly atWallMs: number;
}

/** One voter or learner as the answering node knows it (match and lag only on the leader). */
export interface ConsensusMember {
  readonly id: NodeId;
  readonly voter: boolean;
  /** Highest log index known replicated there (the leader's progress; the node's own log). */
  readonly match?: number;
  /** Commit index minus match. */
  readonly lag?: number;
  readonly state?: string;
  /**
   * The member's own commit and applied index: the answering node's, and in the Deck's snapshot
   * each other voter's as its admin port answered (left out when it did not).
   */
  readonly commit?: number;
  readonly applied?: number;
}

/** `GET /consensus`: the Raft view of a voter (workers have none). */
export interface ConsensusDocument extends Versioned {
  readonly reporter: NodeId;
  readonly role: string;
  readonly term: number;
  readonly leaderId: NodeId | 0;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: readonly ConsensusMember[];
  readonly elections: readonly LeaderChange[];
}

/** One node's committed maintenance state. */
export interface NodeMaintenance {
  readonly node: NodeId;
  readonly state: MaintenanceState;
}

/** `GET /maintenance`: every node with a maintenance record (the others are Active). */
export interface MaintenanceDocument extends Versioned {
  readonly nodes: readonly NodeMaintenance[];
}

/** `meshos node drain|maintenance ... --json`, `POST /actions/maintenance`: one node's status. */
export type MaintenanceStatusDocument = MaintenanceStatus & Versioned;

/** A daemon as `meshos daemon status --json` prints it. */
export type DaemonStatusDocument = DaemonStatus & Versioned;

/** A daemon in `/daemons`: its status, and its inbound rate over the last two snapshots. */
export interface DaemonView extends DaemonStatus {
  /** Events a second through the inbound chain; undefined until two snapshots were taken. */
  readonly eventsPerSecond?: number;
}

/** `GET /daemons`: every deployed daemon (at most `MAX_DECK_DAEMONS`). */
export interface DaemonsDocument extends Versioned {
  readonly daemons: readonly DaemonView[];
  /** Daemons deployed beyond the ones listed. */
  readonly omitted: number;
}

/** `GET /chains`: every chain's status as its leader gives it (at most `MAX_DECK_CHAINS`). */
export interface ChainsDocument extends Versioned {
  readonly chains: readonly ChainStatus[];
  readonly omitted: number;
}

/** `meshos actions --json`: every action the kept audit records tell of. */
export type ActionsDocument = ActionsReport & Versioned;

export interface BackoffView {
  readonly daemon: string;
  readonly node: NodeId;
  readonly untilWallMs: number;
}

export interface AvoidView {
  readonly node: NodeId;
  readonly reason: string;
  readonly untilWallMs: number;
}

/** `GET /reconcile`: the action queue, the audit chain's tail, backoffs and the avoid list. */
export interface ReconcileDocument extends Versioned {
  /** The node holding the reconciler seat (by the last `term` record), 0 when none is known. */
  readonly reconcilerNode: NodeId | 0;
  /** The newest actions (at most `MAX_DECK_ACTIONS`) with the counts and latency of all kept. */
  readonly actions: ActionsReport;
  /** The newest audit records, oldest first (at most `MAX_DECK_AUDIT_RECORDS`). */
  readonly audit: readonly AuditRecord[];
  readonly backoffs: readonly BackoffView[];
  readonly avoid: readonly AvoidView[];
}

/**
 * `GET /deck/snapshot` and each `snapshot` event of `/deck/events`: everything the Deck shows.
 * A part that could not be read is absent and `problems` says why.
 */
export interface DeckSnapshot extends Versioned {
  readonly reporter: NodeId;
  readonly reporterRole: 'voter' | 'worker';
  readonly atWallMs: number;
  readonly nodes?: NodesDocument;
  readonly rtt?: RttDocument;
  readonly maintenance?: MaintenanceDocument;
  readonly consensus?: ConsensusDocument;
  readonly daemons?: DaemonsDocument;
  readonly chains?: ChainsDocument;
  readonly reconcile?: ReconcileDocument;
  readonly problems: readonly string[];
}

/** `POST /actions/maintenance` body. */
export interface MaintenanceActionRequest {
  readonly node: NodeId;
  readonly target: 'enter' | 'exit';
  readonly deadlineMs?: number;
}

/** `POST /actions/daemon-move` body. */
export interface DaemonMoveRequest {
  readonly daemon: string;
  readonly to: NodeId;
}
