/**
 * The shapes every part of the daemons layer shares (issue 15): a daemon kind and the catalog
 * of kinds a node was started with, a deployed daemon's definition as the control plane holds
 * it, the records its inbound and output chains carry, and the status clients see. The model
 * is described in docs/DAEMONS.md.
 */
import type { AcksPolicy } from '../chains/types.js';
import type { MeshDaemon } from '../compute/daemon.js';
import type { NodeId } from '../lib/index.js';

/** How a daemon's members share its work (the groups of `src/compute/groups`). */
export type DaemonGroupKind = 'single' | 'standby' | 'replica' | 'fork';

/**
 * How a standby keeps up: `hot` applies every inbound event as the active does; `warm` holds
 * the latest snapshot plus the inbound chain's tail and applies the tail when promoted.
 */
export type StandbyMode = 'hot' | 'warm';

/** What a kind's factory is told about the member it creates. */
export interface DaemonKindContext {
  readonly daemonName: string;
  readonly memberIndex: number;
  readonly node: NodeId;
}

/**
 * One kind of daemon, as a `--daemon-module` exports it or as a built-in (`counter`,
 * `journal`). `create` makes a fresh member with empty state; the node restores state through
 * the daemon's own `restore`.
 */
export interface DaemonKind {
  readonly name: string;
  /** Checks a deploy's `--config` before anything is placed; throws `ValidationError`. */
  validateConfig?(config: unknown): void;
  create(config: unknown, context: DaemonKindContext): MeshDaemon;
}

/** The kinds one node can run: built-ins plus its modules' exports. */
export interface DaemonKindCatalog {
  /** The kind, or throws `UnknownKindError` (code `DAEMON_KIND_UNKNOWN`, from src/compute). */
  get(name: string): DaemonKind;
  has(name: string): boolean;
  /** Every kind's name, sorted. */
  names(): readonly string[];
}

/** One member of a deployed daemon, where placement put it. */
export interface DaemonMemberPlacement {
  /** 0-based, stable for the daemon's life: a member moved to another node keeps its index. */
  readonly index: number;
  readonly node: NodeId;
}

/**
 * Where a fork group's history begins: its parent daemon's member state after the parent's
 * inbound events below `inboundOffset` (the fork point), as the fork record that starts the
 * fork's own inbound chain holds it.
 */
export interface DaemonForkPoint {
  readonly parent: string;
  readonly inboundOffset: number;
}

/**
 * A deployed daemon as the control plane holds it (`daemons/<name>`). Changed only by
 * compare-and-swap on its mod revision; `epoch` grows by one with every change of active (or of
 * any member's node), so an old active is fenced by the epoch its appends carry.
 */
export interface DaemonDefinition {
  readonly name: string;
  readonly kind: string;
  readonly group: DaemonGroupKind;
  /** The deploy's `--config`, handed to the kind's `create`. */
  readonly config: unknown;
  readonly members: readonly DaemonMemberPlacement[];
  /** The member index that processes events (`single`, `standby`, `fork`); absent for `replica`. */
  readonly active?: number;
  readonly standbyMode: StandbyMode;
  readonly acks: AcksPolicy;
  readonly epoch: number;
  readonly createdAtMs: number;
  /** A fork group's parent and fork point (fork groups only). */
  readonly forkOf?: DaemonForkPoint;
}

/** An event as a client sends it. `clientId` and `sequence` together make a retry recognisable. */
export interface DaemonEventInput {
  readonly payload: Uint8Array;
  /** Replica groups route by a hash of it. */
  readonly key?: string;
  readonly clientId?: string;
  /** Per `clientId`, strictly increasing; a repeated (clientId, sequence) is answered, not applied again. */
  readonly sequence?: number;
}

/** What the inbound chain holds for one event. */
export interface InboundEventRecord {
  /** The daemon epoch the routing node saw; the active refuses events of an older epoch. */
  readonly epoch: number;
  readonly clientId?: string;
  readonly sequence?: number;
  readonly key?: string;
  readonly payload: Uint8Array;
}

/** What the output chain holds for one output of one applied event. */
export interface OutputRecord {
  /** The inbound chain offset of the event that produced it. */
  readonly inboundOffset: number;
  /** Its position among that event's outputs. */
  readonly index: number;
  readonly payload: Uint8Array;
}

export type DaemonMemberRole = 'active' | 'standby' | 'replica';

export interface DaemonMemberStatus {
  readonly index: number;
  readonly node: NodeId;
  readonly role: DaemonMemberRole;
  /** Inbound offset up to which (exclusive) this member has applied events; -1 if unknown. */
  readonly syncedThrough: number;
  readonly healthy: boolean;
}

/** `meshos daemon status --json` prints exactly this shape. */
export interface DaemonStatus {
  readonly name: string;
  readonly kind: string;
  readonly group: DaemonGroupKind;
  readonly epoch: number;
  readonly members: readonly DaemonMemberStatus[];
  /** The inbound chain's commit offset: events below it are durable. */
  readonly inboundThrough: number;
  /**
   * The member count an operator asked for (`meshos daemon scale`, `reconcile/desired/<daemon>`),
   * which reconcile moves `members` towards; absent when none was asked for.
   */
  readonly desiredMembers?: number;
}
