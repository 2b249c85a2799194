/**
 * How a node runs one chain's replica: the replication protocol (`ChainReplica`) over the
 * chain's log on disk (`openChainLog`), adapted to what the chain host drives. The replica's
 * messages use the protocol's own codec, which names the chain in each message.
 */
import {
  ChainReplica,
  type ChainReplicaMessage,
  type ChainReplicaStatus,
  decodeChainMessage,
  encodeChainMessage,
  type HostedReplica,
  type HostedReplicaStatus,
  LEADER_STALE_MS,
  openChainLog,
  type ReplicaProgress,
} from '../chains/index.js';
import { isDaemonInboundChain } from '../daemons/chain-names.js';
import type { Clock, Disk, Logger, NodeId, TimerId } from '../lib/index.js';
import { endOfTurn } from '../lib/node/index.js';
import type { ChainReplicaRuntime } from './chain-service.js';
import { readTrimFloor } from './daemon-trim-floor.js';
import { type CommonServiceContext, part } from './node-parts.js';

/** How often a replica's log drops the segments its chain's retention no longer keeps. */
export const CHAIN_RETENTION_INTERVAL_MS = 10_000;

/** What a node's replicas run on: its id, disk and clock (the simulator passes its own). */
export interface ChainReplicaSeams {
  readonly self: NodeId;
  readonly disk: Disk;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
  /**
   * Runs work at the end of the current turn (the replicas' group commit); default the
   * process's `endOfTurn` (the check phase after the poll, so everything the sockets delivered
   * in this turn has been appended by then and shares one sync and one push; the peer links
   * write what the work sent right after it, in the same turn).
   */
  readonly atEndOfTurn?: (work: () => void) => void;
  /**
   * The trim floor of a chain that has one (a daemon's inbound chain), else undefined: whole
   * segments below it go at each retention pass (docs/CHAINS.md "Trim floor").
   */
  readonly trimFloorOf?: (chain: string) => (() => Promise<number>) | undefined;
  /** Size at which the logs seal a segment (`--chain-segment-bytes`); the log's default when absent. */
  readonly segmentBytes?: number;
}

export function chainReplicaRuntime(context: CommonServiceContext): ChainReplicaRuntime<ChainReplicaMessage> {
  const { disk, clock, logger, parts, config } = context;
  const trimFloorOf = (chain: string): (() => Promise<number>) | undefined => {
    const plane = parts.controlPlane;
    if (plane === undefined || !isDaemonInboundChain(chain)) return undefined;
    return () => readTrimFloor(plane, chain);
  };
  return chainReplicaRuntimeOn({
    self: part(parts, 'identity').id,
    disk,
    clock,
    logger,
    trimFloorOf,
    ...(config.chainSegmentBytes === undefined ? {} : { segmentBytes: config.chainSegmentBytes }),
  });
}

export function chainReplicaRuntimeOn(seams: ChainReplicaSeams): ChainReplicaRuntime<ChainReplicaMessage> {
  const { self, disk, clock, logger } = seams;
  const atEndOfTurn = seams.atEndOfTurn ?? ((work: () => void) => endOfTurn.defer(work));
  return {
    codec: { encode: encodeChainMessage, decode: decodeChainMessage },
    openReplica: async ({ definition, directory, send }) => {
      const log = await openChainLog(disk, directory, {
        sync: definition.sync,
        retention: definition.retention,
        clock,
        name: definition.name,
        ...(definition.maxRecordBytes === undefined ? {} : { maxRecordBytes: definition.maxRecordBytes }),
        ...(seams.segmentBytes === undefined ? {} : { segmentBytes: seams.segmentBytes }),
        ...(logger === undefined
          ? {}
          : { logger: logger.child({ part: 'chain-log', chain: definition.name }) }),
      });
      // A suspicion raised while the replica is built (before the host listens) is kept for it.
      let suspected: ((leader: NodeId, epoch: number) => void) | undefined;
      let early: { leader: NodeId; epoch: number } | undefined;
      const replica = new ChainReplica({
        self,
        definition,
        log,
        clock,
        send: (peer, message) => {
          send(peer, message);
        },
        atEndOfTurn,
        onLeaderSuspected: (leader, epoch) => {
          if (suspected === undefined) early = { leader, epoch };
          else suspected(leader, epoch);
        },
      });
      let retentionTimer: TimerId | undefined;
      const trimFloor = seams.trimFloorOf?.(definition.name);
      const retain = (): void => {
        retentionTimer = clock.setTimer(CHAIN_RETENTION_INTERVAL_MS, () => {
          // Only records this replica knows are committed go (a lagging replica joins at the start).
          (trimFloor?.() ?? Promise.resolve(0))
            .then((trimBelow) => log.applyRetention(clock.wallMs(), replica.commitOffset, trimBelow))
            .then(retain, (error: unknown) => {
              logger?.warn({ chain: definition.name, err: error }, 'chain retention failed');
              retain();
            });
        });
      };
      if (
        definition.retention.maxBytes !== undefined ||
        definition.retention.maxAgeMs !== undefined ||
        trimFloor !== undefined
      )
        retain();
      const hosted: HostedReplica<ChainReplicaMessage> = {
        receive: (from, message) => replica.receive(from, message),
        peerLost: (peer) => replica.peerLost(peer),
        updateDefinition: (next) => replica.updateDefinition(next),
        append: (payloads) => replica.append(payloads),
        read: (fromOffset, maxRecords, maxBytes) => replica.read(fromOffset, maxRecords, maxBytes),
        get commitOffset() {
          return replica.commitOffset;
        },
        onCommit: (listener) => replica.onCommit(listener),
        onLeaderSuspected: (listener) => {
          suspected = listener;
          if (early !== undefined) listener(early.leader, early.epoch);
          early = undefined;
        },
        status: () => hostedStatus(replica.status()),
        close: async () => {
          if (retentionTimer !== undefined) clock.clearTimer(retentionTimer);
          replica.close();
          await log.close();
        },
      };
      return hosted;
    },
  };
}

/** The replica's status as the host reports it: a leader's members with offset, lag and health. */
function hostedStatus(status: ChainReplicaStatus): HostedReplicaStatus {
  const leading = status.role === 'leader';
  const progress = (learner: boolean): ReplicaProgress[] =>
    status.replicas
      .filter((member) => member.learner === learner)
      .map((member) => ({
        node: member.node,
        offset: member.matchOffset,
        lag: member.lag,
        healthy: member.lastHeardAgoMs < LEADER_STALE_MS,
      }));
  return {
    leading,
    epoch: status.epoch,
    startOffset: status.startOffset,
    endOffset: status.endOffset,
    commitOffset: status.commitOffset,
    ...(leading && status.epochStartOffset !== undefined
      ? { epochStartOffset: status.epochStartOffset }
      : {}),
    ...(leading ? { replicas: progress(false), learners: progress(true) } : {}),
  };
}
