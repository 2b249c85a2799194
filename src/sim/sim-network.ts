import type { Random } from '../lib/index.js';
import type { Message, NodeId } from '../raft/index.js';
import { drawBelow, drawBetween } from './draw.js';
import {
  BASE_NETWORK_DELAY_MAX_US,
  BASE_NETWORK_DELAY_MIN_US,
  type FaultCounts,
  type FaultPlan,
  NETWORK_LONG_TAIL_MAX_US,
  REORDER_EXTRA_DELAY_MAX_US,
} from './fault-plan.js';
import type { Scheduler } from './scheduler.js';

/** Trace labels of message deliveries, built once (the numbers after them: from, to, term). */
const DELIVER_LABELS: Record<Message['type'], string> = {
  vote: 'deliver vote',
  voteResponse: 'deliver voteResponse',
  preVote: 'deliver preVote',
  preVoteResponse: 'deliver preVoteResponse',
  append: 'deliver append',
  appendResponse: 'deliver appendResponse',
  heartbeat: 'deliver heartbeat',
  heartbeatResponse: 'deliver heartbeatResponse',
  snapshot: 'deliver snapshot',
  snapshotResponse: 'deliver snapshotResponse',
  timeoutNow: 'deliver timeoutNow',
  readIndex: 'deliver readIndex',
  readIndexResponse: 'deliver readIndexResponse',
};

/** Largest node id the link table supports (ids are small in simulations). */
const MAX_NODE_ID = 1_000;

/**
 * Links between nodes with the network knobs applied to every message: base delay, jitter,
 * long tail, drop, duplicate, reorder, and blocked directed links (partitions). Each knob
 * draws from its own random stream so turning one off leaves the others' draws unchanged.
 */
export class SimNetwork {
  /** Directed link -> how many active partitions block it (partitions may overlap). */
  private readonly blocked = new Map<number, number>();
  /** False once the run enters its liveness phase: messages then only see the base delay. */
  faultsActive = true;
  private readonly delayRandom: Random;
  private readonly dropRandom: Random;
  private readonly duplicateRandom: Random;
  private readonly reorderRandom: Random;

  constructor(
    private readonly scheduler: Scheduler,
    random: Random,
    private readonly plan: FaultPlan,
    private readonly counts: FaultCounts,
    private readonly deliver: (message: Message) => void,
    /** Told about every message the network lost (a real transport sees its link fail). */
    private readonly onLost: (message: Message) => void,
  ) {
    this.delayRandom = random.fork('delay');
    this.dropRandom = random.fork('drop');
    this.duplicateRandom = random.fork('duplicate');
    this.reorderRandom = random.fork('reorder');
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(from * MAX_NODE_ID + to);
  }

  block(from: NodeId, to: NodeId): void {
    const link = from * MAX_NODE_ID + to;
    this.blocked.set(link, (this.blocked.get(link) ?? 0) + 1);
  }

  unblock(from: NodeId, to: NodeId): void {
    const link = from * MAX_NODE_ID + to;
    const count = this.blocked.get(link) ?? 0;
    if (count <= 1) this.blocked.delete(link);
    else this.blocked.set(link, count - 1);
  }

  healAll(): void {
    this.blocked.clear();
  }

  /** A delay for one message (or client request/response) under the current knobs. */
  sampleDelayUs(): number {
    const random = this.delayRandom;
    let delay = drawBetween(random, BASE_NETWORK_DELAY_MIN_US, BASE_NETWORK_DELAY_MAX_US);
    if (!this.faultsActive) return delay;
    if (this.plan.jitterMaxUs > 0) delay += drawBelow(random, this.plan.jitterMaxUs);
    if (random.chance(this.plan.longTailProbability)) {
      this.counts.delay++;
      delay += drawBelow(random, NETWORK_LONG_TAIL_MAX_US);
    }
    return delay;
  }

  send(message: Message): void {
    this.transmit(
      message.from,
      message.to,
      DELIVER_LABELS[message.type],
      message.term,
      () => this.deliver(message),
      () => this.onLost(message),
    );
  }

  /**
   * Sends a message of another channel than Raft's (the chains channel, say) under the same
   * knobs: `deliver` runs when it arrives (twice if duplicated, unless not `duplicable`),
   * `lost` when the network lost it.
   */
  carry(
    from: NodeId,
    to: NodeId,
    label: string,
    duplicable: boolean,
    deliver: () => void,
    lost: () => void,
  ): void {
    this.transmit(from, to, label, -1, deliver, lost, duplicable);
  }

  private transmit(
    from: NodeId,
    to: NodeId,
    label: string,
    tag: number,
    deliver: () => void,
    lost: () => void,
    duplicable = true,
  ): void {
    // Partitions are counted where they are made; a blocked link just loses the message.
    if (this.isBlocked(from, to)) {
      lost();
      return;
    }
    if (this.faultsActive && this.dropRandom.chance(this.plan.dropProbability)) {
      this.counts.drop++;
      lost();
      return;
    }
    this.schedule(from, to, label, tag, deliver);
    if (this.faultsActive && this.duplicateRandom.chance(this.plan.duplicateProbability) && duplicable) {
      this.counts.duplicate++;
      this.schedule(from, to, label, tag, deliver);
    }
  }

  private schedule(from: NodeId, to: NodeId, label: string, tag: number, deliver: () => void): void {
    let delay = this.sampleDelayUs();
    if (this.faultsActive && this.reorderRandom.chance(this.plan.reorderProbability)) {
      this.counts.reorder++;
      delay += drawBelow(this.reorderRandom, REORDER_EXTRA_DELAY_MAX_US);
    }
    this.scheduler.schedule(delay, label, deliver, from, to, tag);
  }
}
