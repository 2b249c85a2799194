import { isMeshError, MeshError, type NodeId, type Random } from '../lib/index.js';
import { FORWARD_TIMEOUT_MS, type ForwardToLeader, type RaftKvBackend } from '../server/index.js';
import type { FaultCounts } from './fault-plan.js';
import { type Life, whenRunning } from './incarnation.js';
import { MICROSECONDS_PER_MILLISECOND, type Scheduler } from './scheduler.js';
import type { RequestOutcome } from './sim-client.js';
import type { SimNetwork } from './sim-network.js';
import type { RunningProcess } from './sim-node.js';

/** A replayed client request arrives up to this long after the original. */
const REQUEST_REPLAY_DELAY_MAX_US = 400_000;

/**
 * The request paths that are not Raft messages: clients to nodes, and followers forwarding
 * writes to the leader. Both cross the simulated network, so delays, partitions and dead
 * processes lose requests and answers as they would in a deployment.
 */
export class SimRequestChannels {
  /** False once the run heals: no more replays. */
  faultsActive = true;
  private staleRefused = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
    private readonly processOf: (node: NodeId) => RunningProcess | undefined,
    private readonly replayRandom: Random,
    private readonly replayProbability: number,
    private readonly counts: FaultCounts,
  ) {}

  /** Replayed client writes the nodes refused as older than their session's latest. */
  get staleRequestsRefused(): number {
    return this.staleRefused;
  }

  /** One client request over the client network: delayed both ways, lost with a dead process. */
  request(
    nodeId: NodeId,
    work: (backend: RaftKvBackend) => Promise<unknown>,
    answer: (outcome: RequestOutcome) => void,
    isWrite: boolean,
  ): boolean {
    return this.requestProcess(nodeId, (process) => work(process.backend), answer, isWrite);
  }

  /** Like `request`, for work on any part of the node's process (its chains, say). */
  requestProcess(
    nodeId: NodeId,
    work: (process: RunningProcess) => Promise<unknown>,
    answer: (outcome: RequestOutcome) => void,
    isWrite: boolean,
  ): boolean {
    const deliver = (replay: boolean): void => {
      const process = this.processOf(nodeId);
      if (process === undefined) return;
      if (process.life.pausedUntilUs > this.scheduler.nowUs) {
        whenRunning(this.scheduler, process.life, 'paused request', () => deliver(replay));
        return;
      }
      let pending: Promise<unknown>;
      try {
        pending = work(process);
      } catch (error) {
        pending = Promise.reject(error);
      }
      const respond = (outcome: RequestOutcome): void => {
        if (replay && !outcome.ok && isMeshError(outcome.error, 'STALE_REQUEST')) this.staleRefused++;
        if (replay || !process.life.alive) return;
        this.scheduler.schedule(this.network.sampleDelayUs(), 'client answer', () => answer(outcome), nodeId);
      };
      pending.then(
        (value) => respond({ ok: true, value }),
        (error: unknown) => respond({ ok: false, error }),
      );
    };
    this.scheduler.schedule(this.network.sampleDelayUs(), 'client request', () => deliver(false), nodeId);
    if (isWrite && this.faultsActive && this.replayRandom.chance(this.replayProbability)) {
      this.counts.duplicate++;
      this.scheduler.schedule(
        this.replayRandom.nextInt(REQUEST_REPLAY_DELAY_MAX_US),
        'client request replay',
        () => deliver(true),
        nodeId,
      );
      return true;
    }
    return false;
  }

  /**
   * The forwarding channel of one process: the request and its answer cross the simulated
   * network (a partition or a dead process loses them); no answer within the production
   * timeout fails with TIMEOUT; errors cross as code, message and details, as on the wire.
   */
  forwardChannel(life: Life): ForwardToLeader {
    const from = life.node;
    return (leader, body) =>
      new Promise<Uint8Array>((resolve, reject) => {
        let settled = false;
        const settle = (action: () => void): void => {
          if (settled || !life.alive) return;
          settled = true;
          action();
        };
        this.scheduler.schedule(
          FORWARD_TIMEOUT_MS * MICROSECONDS_PER_MILLISECOND,
          'forward timeout',
          () => settle(() => reject(new MeshError('TIMEOUT', `no answer from node ${leader}`))),
          from,
          leader,
        );
        if (this.network.isBlocked(from, leader)) return;
        const arrive = (): void => {
          const process = this.processOf(leader);
          if (process === undefined) return;
          if (process.life.pausedUntilUs > this.scheduler.nowUs) {
            whenRunning(this.scheduler, process.life, 'paused forward', arrive);
            return;
          }
          const answer = (action: () => void): void => {
            if (!process.life.alive || this.network.isBlocked(leader, from)) return;
            this.scheduler.schedule(
              this.network.sampleDelayUs(),
              'forward answer',
              () => settle(action),
              leader,
              from,
            );
          };
          process.backend.handleForwarded(body, from).then(
            (result) => answer(() => resolve(result)),
            (error: unknown) => {
              const code = error instanceof MeshError ? error.code : 'INTERNAL';
              const details = error instanceof MeshError ? (error.details ?? {}) : {};
              const message = error instanceof Error ? error.message : String(error);
              answer(() => reject(new MeshError(code, message, { details })));
            },
          );
        };
        this.scheduler.schedule(this.network.sampleDelayUs(), 'forward request', arrive, from, leader);
      });
  }
}
