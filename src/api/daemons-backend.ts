/**
 * What the `meshos.v1.Daemons` gRPC service needs from a node. The node's daemons service
 * implements it; the API layer never reaches past it. The model (groups, epochs, the inbound
 * and output chains, exactly-once) is described in docs/DAEMONS.md.
 *
 * Error contract: every method resolves with its answer or rejects with a typed `MeshError`
 * (`ValidationError` for bad input). Codes a client must tell apart:
 *
 * | code                            | when                                                                  |
 * | ------------------------------- | --------------------------------------------------------------------- |
 * | `DAEMON_NOT_FOUND`              | no daemon of that name                                                |
 * | `DAEMON_EXISTS`                 | deploy of a taken name                                                |
 * | `DAEMON_KIND_UNKNOWN`           | deploy of a kind the placed nodes cannot run                          |
 * | `DAEMON_PLACEMENT_FAILED`       | fewer healthy nodes than members                                      |
 * | `DAEMON_UNAVAILABLE`            | no active reachable; the event was never appended: not applied        |
 * | `DAEMON_EVENT_OUTCOME_UNKNOWN`  | the event reached the inbound chain's leader but was not acknowledged |
 * | `DAEMON_EVENT_TOO_LARGE`        | an event above the daemon's limit: not appended                       |
 * | `DAEMON_PROCESS_FAILED`         | the kind threw or answered too much: the event changed nothing        |
 * | `DAEMON_PROCESS_TIMEOUT`        | the kind missed its deadline: the event changed nothing               |
 * | `DAEMON_SEQUENCE_STALE`         | a sequence below the client's last applied one: not applied           |
 * | `VALIDATION_FAILED`             | bad input                                                             |
 */

import type { AcksPolicy } from '../chains/types.js';
import type {
  DaemonDefinition,
  DaemonEventInput,
  DaemonGroupKind,
  DaemonStatus,
  StandbyMode,
} from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';

export interface DaemonDeployInput {
  readonly name: string;
  readonly kind: string;
  readonly group: DaemonGroupKind;
  /** How many members (nodes); 1 for `single`. */
  readonly members: number;
  readonly config?: unknown;
  /** Defaults to `hot`. */
  readonly standbyMode?: StandbyMode;
  /** Defaults to `quorum`. */
  readonly acks?: AcksPolicy;
  /**
   * A fork group's parent daemon and fork point (its inbound offset; default: its inbound
   * chain's commit offset at deploy). Fork groups only, and required for them.
   */
  readonly forkOf?: { readonly parent: string; readonly inboundOffset?: number };
}

export interface DaemonSendResult {
  readonly epoch: number;
  /** Where the event sits on the inbound chain (the member's chain for a replica group). */
  readonly inboundOffset: number;
  /** The member that applied it. */
  readonly memberIndex: number;
  /** True when (clientId, sequence) had been applied before: this answer is the first one's. */
  readonly duplicate: boolean;
  /** What applying the event produced, in order (empty until applied if acks come first). */
  readonly outputs: readonly Uint8Array[];
}

export interface DaemonStateResult {
  readonly name: string;
  readonly epoch: number;
  readonly memberIndex: number;
  /** Inbound offset up to which (exclusive) the state reflects applied events. */
  readonly appliedThrough: number;
  /** The daemon's `snapshot()`. */
  readonly state: Uint8Array;
}

/** One output as readers see it; `sequence` is its offset on the output chain. */
export interface DaemonOutput {
  readonly sequence: number;
  readonly inboundOffset: number;
  readonly index: number;
  readonly payload: Uint8Array;
}

export interface DaemonMoveResult {
  readonly name: string;
  readonly epoch: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** How long events were held back while the active changed node (cutover). */
  readonly pauseMs: number;
  /** Each of the six phases (snapshot, transfer, restore, replay, cutover, complete) with its duration. */
  readonly phases: readonly { readonly phase: string; readonly durationMs: number }[];
}

export interface DaemonsBackend {
  /** Validates, places the members, commits the definition, and answers the status. */
  deploy(input: DaemonDeployInput): Promise<DaemonStatus>;
  list(): Promise<readonly DaemonDefinition[]>;
  status(name: string): Promise<DaemonStatus>;
  /** Routes to the active (by key hash for a replica group); resolves once durable and applied. */
  send(name: string, event: DaemonEventInput, timeoutMs: number): Promise<DaemonSendResult>;
  state(name: string, memberIndex?: number): Promise<DaemonStateResult>;
  /**
   * Outputs from `fromSequence` on. Without `follow` the iterable ends at the current end; with
   * it, it waits for more until `signal` aborts (the iterable then ends without an error).
   * `memberIndex` picks a replica group's member (each has its own outputs; default the first).
   */
  outputs(
    name: string,
    fromSequence: number,
    follow: boolean,
    signal: AbortSignal,
    memberIndex?: number,
  ): AsyncIterable<DaemonOutput>;
  /** Moves the active (or the member on `from`, for replica/fork groups) to `to`. */
  move(name: string, to: NodeId, timeoutMs: number): Promise<DaemonMoveResult>;
  /** Stops every member and deletes the definition and its chains. */
  remove(name: string): Promise<void>;
}
