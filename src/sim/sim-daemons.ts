import { type ChainRecord, type ChainsBackend, chainRecordStream } from '../api/index.js';
import { DaemonUnavailableError } from '../daemons/cluster-errors.js';
import { isForkRecord } from '../daemons/fork-record.js';
import { BUILT_IN_KINDS, createKindCatalog } from '../daemons/kinds/index.js';
import { decodeInboundEventRecord, encodeInboundEventRecord } from '../daemons/record-codec.js';
import type { InboundEventRecord } from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import { daemonChainDefinitions } from '../mesh/daemon-chain-takeover.js';
import { type DaemonsNode, openDaemonsNode } from '../mesh/daemon-node.js';
import type { ChainProcess, ChainServices } from './sim-chains.js';
import type { SimChannelLinks } from './sim-channel-links.js';
import type { SimHealthView } from './sim-health-view.js';
import type { RunningProcess } from './sim-node.js';

/**
 * Self-tests: members read their inbound chain through a lens that breaks one safety rule
 * (the checks must catch it): `skip-dedup` drops every event's client id and sequence, so a
 * retry is applied again; `skip-epochs` stamps every event with epoch 0, so nothing a fenced
 * old active appended is refused.
 */
export type UnsafeMemberReads = 'skip-dedup' | 'skip-epochs';

/** What the simulation watches on the daemons. */
export interface DaemonObserver {
  /** `node` had records appended to inbound chain `chain` and acknowledged, stamped with `epochs`. */
  onInboundAcknowledged(chain: string, node: NodeId, epochs: readonly number[]): void;
}

export interface SimDaemonsOptions {
  readonly links: SimChannelLinks;
  readonly health: SimHealthView;
  readonly rttMs: (from: NodeId, to: NodeId) => number;
  readonly observer: DaemonObserver;
  readonly unsafeMemberReads?: UnsafeMemberReads;
}

/** A daemon's inbound chain, or a replica member's (`.inbound.<index>`). */
const INBOUND_CHAIN = /^daemon\..+\.inbound(\.\d+)?$/;

/**
 * The daemons service of every simulated process, run by the production code
 * (`openDaemonsNode`: definitions followed, members on the inbound chain, request routing over
 * the daemons channel, the failover coordinator, the output writer) over the process's chains
 * (`ChainRequests`), its control plane (the simulated Raft KV) and its clock. The membership
 * view is `SimHealthView`'s; RTTs are the chains' stand-in matrix's.
 */
export class SimDaemons implements ChainServices {
  private readonly processes = new Map<NodeId, DaemonsNode>();

  constructor(private readonly options: SimDaemonsOptions) {}

  /** The running daemons parts of `node`, once its process started them. */
  processOf(node: NodeId): DaemonsNode | undefined {
    return this.processes.get(node);
  }

  /** The daemons parts of a running process, or DAEMON_UNAVAILABLE while they are starting. */
  requireOf(process: RunningProcess, daemon: string): DaemonsNode {
    const daemons = this.processes.get(process.life.node);
    if (daemons === undefined)
      throw new DaemonUnavailableError(daemon, 'the daemons service of this node is starting');
    return daemons;
  }

  started(process: RunningProcess, chains: ChainProcess): void {
    const self = process.life.node;
    const { health, links, rttMs } = this.options;
    const daemons = openDaemonsNode({
      self,
      plane: chains.plane,
      chains: this.observed(self, chains.requests),
      chainDirectory: chains.directory,
      catalog: createKindCatalog(BUILT_IN_KINDS),
      link: links.linkFor(process.life),
      nodes: () => health.nodesSeenBy(self),
      onNodesChange: (listener) => health.onChange(process.life, listener),
      rttMs: (peer) => rttMs(self, peer),
      chainsOf: (daemon) => daemonChainDefinitions(chains.directory, daemon),
      clock: process.clock,
      random: process.random.fork('daemons'),
      logger: silentLogger,
    });
    this.processes.set(self, daemons);
  }

  async stopping(node: NodeId): Promise<void> {
    const daemons = this.processes.get(node);
    this.processes.delete(node);
    await daemons?.close();
  }

  ended(node: NodeId): void {
    this.processes.delete(node);
    this.options.links.processEnded(node);
  }

  /**
   * The node's chains as its daemons use them: acknowledged inbound appends are reported to the
   * observer (who appended under which epoch); the self-tests' lens applies to what members read.
   */
  private observed(self: NodeId, chains: ChainsBackend): ChainsBackend {
    const { observer, unsafeMemberReads } = this.options;
    return {
      create: (input) => chains.create(input),
      delete: (name) => chains.delete(name),
      append: async (name, payloads, timeoutMs) => {
        const result = await chains.append(name, payloads, timeoutMs);
        // A fork's deploy appends the record that starts the fork's chain: no active's event.
        const events = payloads.filter((payload) => !isForkRecord(payload));
        if (INBOUND_CHAIN.test(name) && events.length > 0)
          observer.onInboundAcknowledged(
            name,
            self,
            events.map((payload) => decodeInboundEventRecord(payload).epoch),
          );
        return result;
      },
      read: (name, fromOffset, limit, maxBytes) => chains.read(name, fromOffset, limit, maxBytes),
      subscribe: (name, fromOffset, signal) => {
        const stream = chains.subscribe(name, fromOffset, signal);
        if (unsafeMemberReads === undefined || !INBOUND_CHAIN.test(name)) return stream;
        return chainRecordStream(
          () => lensed(stream.batches(), unsafeMemberReads),
          signal,
          () => stream.position,
        );
      },
      status: (name) => chains.status(name),
      list: () => chains.list(),
    };
  }
}

async function* lensed(
  batches: AsyncIterable<readonly ChainRecord[]>,
  unsafe: UnsafeMemberReads,
): AsyncGenerator<readonly ChainRecord[]> {
  for await (const batch of batches) yield batch.map((record) => lensedRecord(record, unsafe));
}

function lensedRecord(record: ChainRecord, unsafe: UnsafeMemberReads): ChainRecord {
  let event: InboundEventRecord;
  try {
    event = decodeInboundEventRecord(record.payload);
  } catch {
    return record;
  }
  const changed: InboundEventRecord =
    unsafe === 'skip-epochs'
      ? { ...event, epoch: 0 }
      : {
          epoch: event.epoch,
          payload: event.payload,
          ...(event.key === undefined ? {} : { key: event.key }),
        };
  return { ...record, payload: encodeInboundEventRecord(changed) };
}
