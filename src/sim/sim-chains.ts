import {
  type ChainDefinition,
  ChainDirectory,
  ChainHost,
  type ChainReplicaMessage,
  directoryFeed,
  type HostedAppend,
  type HostedReplica,
  type PeerProximity,
  type ProximityMatrix,
  type ProximityMatrixRow,
  proposeFailover,
} from '../chains/index.js';
import { type ControlPlane, openControlPlane } from '../control/index.js';
import type { NodeId, Random } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import { chainReplicaRuntimeOn } from '../mesh/chain-replicas.js';
import { type ChainPlacer, ChainRequests } from '../mesh/chain-requests.js';
import type { Scheduler } from './scheduler.js';
import type { SimChannelLinks } from './sim-channel-links.js';
import type { ProcessAddOn, RunningProcess } from './sim-node.js';

/** Where each machine keeps its chains' logs, beside the Raft data directory. */
export const CHAINS_DIRECTORY = '/data/chains';
/** Round-trip times drawn for the stand-in proximity matrix, per pair of nodes. */
const MATRIX_RTT_MIN_MS = 1;
const MATRIX_RTT_MAX_MS = 20;

/** The chain parts of one running process: the production host and requests over the sim's seams. */
export interface ChainProcess {
  readonly host: ChainHost<ChainReplicaMessage>;
  readonly requests: ChainRequests<ChainReplicaMessage>;
  readonly plane: ControlPlane;
  readonly directory: ChainDirectory;
}

/** Services a process runs on its chains (the daemons): started after them, closed before them. */
export interface ChainServices {
  started(process: RunningProcess, chains: ChainProcess): void;
  /** Closes what `started` opened for `node`'s process (a graceful stop). */
  stopping(node: NodeId): Promise<void>;
  /** The process of `node` ended (crash or stop). */
  ended(node: NodeId): void;
}

/** What the simulation watches on the chains. */
export interface ChainObserver {
  /** `node`'s replica of `chain` acknowledged an append (its acks policy was met). */
  onAcknowledged(chain: string, node: NodeId, append: HostedAppend): void;
}

export interface SimChainsOptions {
  readonly scheduler: Scheduler;
  readonly links: SimChannelLinks;
  readonly isUp: (node: NodeId) => boolean;
  readonly place: ChainPlacer;
  readonly observer: ChainObserver;
  readonly random: Random;
  /**
   * Self-test: every replica runs its chain as if its acks policy were `one`, so a leader
   * acknowledges appends no other replica holds yet (the checks must catch the loss).
   */
  readonly unsafeAcknowledgeAlone?: boolean;
  /** What each process runs on its chains once they started. */
  readonly services?: ChainServices;
}

/**
 * The chains on every simulated machine, run by the production code: each process gets a
 * `ChainHost` (replicas over `openChainLog` on the process's incarnation disk, so a crash loses
 * unsynced writes), the node's `ChainRequests` (appends routed to the leader over the chains
 * channel), and a control plane over the process's own `RaftKvBackend`: definitions are read
 * and watched there, epochs move by compare-and-swap through the simulated Raft cluster.
 * Failover proposals choose the next leader with `proposeFailover` over a stand-in proximity
 * matrix (fixed drawn RTTs; a node is healthy while its process runs).
 */
export class SimChains implements ProcessAddOn {
  private readonly processes = new Map<NodeId, ChainProcess>();
  private readonly drawnRttMs = new Map<string, number>();
  private nodeIds: readonly NodeId[] = [];

  constructor(private readonly options: SimChainsOptions) {}

  /** The machines of the run, once built: the matrix's RTTs are drawn for each pair. */
  setNodes(ids: readonly NodeId[]): void {
    this.nodeIds = ids;
    for (const from of ids)
      for (const to of ids)
        if (from < to)
          this.drawnRttMs.set(
            `${from}-${to}`,
            this.options.random.nextIntBetween(MATRIX_RTT_MIN_MS, MATRIX_RTT_MAX_MS),
          );
  }

  /** The stand-in matrix's round-trip time between two nodes. */
  rttMs(from: NodeId, to: NodeId): number {
    return this.drawnRttMs.get(from < to ? `${from}-${to}` : `${to}-${from}`) ?? MATRIX_RTT_MAX_MS;
  }

  /** The running chain parts of `node`, once its process started them. */
  processOf(node: NodeId): ChainProcess | undefined {
    return this.processes.get(node);
  }

  started(process: RunningProcess): void {
    const self = process.life.node;
    const { clock, disk } = process;
    const plane = openControlPlane({
      kind: 'in-process',
      backend: process.backend,
      clock,
      random: process.random.fork('control-plane'),
    });
    void plane.then((opened) => {
      if (!process.life.alive) return;
      const directory = new ChainDirectory(opened, { clock });
      // Group commit and shared forwards at the end of the turn: an event at this simulated time, not the host's.
      const atEndOfTurn = (work: () => void): void => clock.defer(work);
      const runtime = chainReplicaRuntimeOn({
        self,
        disk,
        clock,
        logger: silentLogger,
        atEndOfTurn,
      });
      const host = new ChainHost<ChainReplicaMessage>({
        self,
        chainsDirectory: CHAINS_DIRECTORY,
        link: this.options.links.linkFor(process.life),
        codec: runtime.codec,
        openReplica: async (request) => {
          const replica = await runtime.openReplica({
            ...request,
            definition: this.weaken(request.definition),
          });
          return this.observed(request.definition.name, self, replica);
        },
        removeDirectory: (path) => disk.remove(path),
        definitions: directoryFeed(directory),
        proposeFailover: async (definition, suspected) => {
          await proposeFailover(directory, definition.name, new Set([suspected]), this.matrix(), {
            epoch: definition.epoch,
          });
        },
        clock,
        logger: silentLogger,
      });
      const requests = new ChainRequests<ChainReplicaMessage>({
        host,
        store: directory,
        place: this.options.place,
        clock,
        atEndOfTurn,
      });
      host.start();
      const chains: ChainProcess = { host, requests, plane: opened, directory };
      this.processes.set(self, chains);
      this.options.services?.started(process, chains);
    });
  }

  async stopping(process: RunningProcess): Promise<void> {
    const chains = this.processes.get(process.life.node);
    this.processes.delete(process.life.node);
    if (chains === undefined) return;
    await this.options.services?.stopping(process.life.node);
    await chains.host.close();
    await chains.plane.close();
  }

  ended(node: NodeId): void {
    this.processes.delete(node);
    this.options.links.processEnded(node);
    this.options.services?.ended(node);
  }

  /** The definition as replicas see it: its own, unless the self-test weakens the acks policy. */
  private weaken(definition: ChainDefinition): ChainDefinition {
    return this.options.unsafeAcknowledgeAlone === true ? { ...definition, acks: 'one' } : definition;
  }

  /** The replica with its acknowledgements reported to the observer. */
  private observed(
    chain: string,
    self: NodeId,
    replica: HostedReplica<ChainReplicaMessage>,
  ): HostedReplica<ChainReplicaMessage> {
    const observer = this.options.observer;
    return {
      receive: (from, message) => replica.receive(from, message),
      peerLost: (peer) => replica.peerLost(peer),
      updateDefinition: (definition) => replica.updateDefinition(this.weaken(definition)),
      append: async (payloads) => {
        const append = await replica.append(payloads);
        observer.onAcknowledged(chain, self, append);
        return append;
      },
      read: (fromOffset, maxRecords, maxBytes) => replica.read(fromOffset, maxRecords, maxBytes),
      get commitOffset() {
        return replica.commitOffset;
      },
      onCommit: (listener) => replica.onCommit(listener),
      onLeaderSuspected: (listener) => replica.onLeaderSuspected(listener),
      status: () => replica.status(),
      close: () => replica.close(),
    };
  }

  /** The stand-in for the proximity graph's matrix: every running node's fresh row. */
  private matrix(): ProximityMatrix {
    const rows = new Map<NodeId, ProximityMatrixRow>();
    const ids = this.nodeIds;
    for (const node of ids) {
      if (!this.options.isUp(node)) continue;
      const peers = new Map<NodeId, PeerProximity>();
      for (const peer of ids) {
        if (peer === node) continue;
        peers.set(peer, {
          rttMs: this.rttMs(node, peer),
          healthy: this.options.isUp(peer),
        });
      }
      rows.set(node, { node, publishedAtMs: this.options.scheduler.wallMs(), peers, fresh: true });
    }
    return { rows };
  }
}
