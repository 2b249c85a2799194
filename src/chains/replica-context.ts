import type { Clock, NodeId } from '../lib/index.js';
import type { ChainReplicaMessage } from './replica-messages.js';
import type { ChainLog } from './types.js';

/** What a replica's roles share: its identity, its log and clock, and its way out. */
export interface ReplicaContext {
  readonly self: NodeId;
  readonly chain: string;
  readonly log: ChainLog;
  readonly clock: Clock;
  send(peer: NodeId, message: ChainReplicaMessage): void;
  /** Records below this offset are committed. */
  readonly commitOffset: number;
  /** Moves the commit offset forward (never back) and tells the listeners. */
  advanceCommit(offset: number): void;
  /** The log was cut at `offset`: a commit offset past it (possible only with acks one) comes back. */
  truncated(offset: number): void;
  /**
   * Calls `then` with the durable offset once every write made so far is on disk; a failed
   * sync goes to the replica instead (it stops leading: nothing more can be made durable).
   */
  whenDurable(then: (durableOffset: number) => void): void;
  /** The log refused a write or a sync: it is unusable until reopened. */
  logFailed(error: unknown): void;
  /**
   * Runs `action` once the work of the current turn is done (the host's end of turn), so what
   * arrives together (appends, messages) shares one sync wait and one message per peer.
   */
  atEndOfTurn(action: () => void): void;
  /** Reports, once per epoch, that `leader` of `epoch` looks gone. */
  suspect(leader: NodeId, epoch: number): void;
}
