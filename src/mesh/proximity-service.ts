/**
 * The proximity service of a node (voter or worker): pings the nodes of the membership view on
 * the proximity channel, publishes this node's row of the RTT matrix under its registration
 * lease, and follows every node's row (the matrix chains choose leaders from, `/mesh/rtt`,
 * `meshos mesh rtt`). See docs/CHAINS.md "Election".
 */
import { Gauge, type Registry } from 'prom-client';
import {
  ProximityFollower,
  ProximityGraph,
  type ProximityMatrix,
  ProximityPublisher,
} from '../chains/index.js';
import { type NodeId, PEER_CHANNEL } from '../lib/index.js';
import { nodesToMeasure } from './membership.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';

/** What the proximity service opened, for the services after it (chains) and the admin port. */
export interface ProximityParts {
  readonly graph: ProximityGraph;
  readonly follower: ProximityFollower;
}

export function proximityService(context: CommonServiceContext): NodeService {
  const { parts, clock, random, logger } = context;
  return {
    name: SERVICE.proximity,
    role: 'RTT and health of every peer (pings on the proximity channel), published to proximity/<node>',
    dependsOn: [SERVICE.transport, SERVICE.controlPlane, SERVICE.membership],
    // Its state is measurements a fresh start takes again within a few pings.
    policy: 'restartable',
    async open() {
      const self = part(parts, 'identity').id;
      const plane = part(parts, 'controlPlane');
      const membership = part(parts, 'membership');
      const log = logger?.child({ part: 'proximity' });
      const graph = new ProximityGraph({ link: part(parts, 'channels').link(PEER_CHANNEL.proximity), clock });
      // The nodes linked both ways (membership dials the share), so pongs can return.
      const refreshPeers = (): void =>
        graph.setPeers(
          nodesToMeasure(
            self,
            membership.view.nodes().map((node) => node.record.id),
          ),
        );
      const unsubscribe = membership.view.onChange(refreshPeers);
      refreshPeers();
      graph.start();
      const publisher = new ProximityPublisher({
        plane,
        self,
        graph,
        leaseId: () => membership.registration.leaseId,
        clock,
        ...(log === undefined ? {} : { logger: log }),
      });
      publisher.start();
      const follower = new ProximityFollower({
        plane,
        clock,
        random: random.fork('proximity'),
        ...(log === undefined ? {} : { logger: log }),
      });
      parts.proximity = { graph, follower };
      parts.proximityMatrix = () => measuredMatrix(self, follower.matrix());
      return {
        close: async () => {
          delete parts.proximityMatrix;
          delete parts.proximity;
          unsubscribe();
          graph.stop();
          await publisher.stop();
          await follower.stop();
        },
      };
    },
  };
}

/**
 * The matrix once this node's own row is published fresh with every peer measured; undefined
 * before (just started: peers not yet answered would read as unhealthy), so chains use the
 * membership view until then.
 */
export function measuredMatrix(self: NodeId, matrix: ProximityMatrix): ProximityMatrix | undefined {
  const own = matrix.rows.get(self);
  if (own === undefined || !own.fresh) return undefined;
  for (const sample of own.peers.values()) if (sample.rttMs === undefined) return undefined;
  return matrix;
}

/** One row of `/mesh/rtt`: a node's measurements of its peers, as the control plane holds them. */
export interface RttReportRow {
  readonly node: NodeId;
  readonly publishedAtMs: number;
  readonly fresh: boolean;
  readonly peers: readonly { readonly node: NodeId; readonly rttMs?: number; readonly healthy: boolean }[];
}

export interface RttReport {
  /** The node that answered. */
  readonly reporter: NodeId;
  readonly rows: readonly RttReportRow[];
}

/** The matrix as `/mesh/rtt` answers it: rows and peers in id order. */
export function rttReport(reporter: NodeId, matrix: ProximityMatrix | undefined): RttReport {
  const rows = [...(matrix?.rows.values() ?? [])]
    .sort((a, b) => a.node - b.node)
    .map((row) => ({
      node: row.node,
      publishedAtMs: row.publishedAtMs,
      fresh: row.fresh,
      peers: [...row.peers].sort(([a], [b]) => a - b).map(([node, sample]) => ({ node, ...sample })),
    }));
  return { reporter, rows };
}

/**
 * `meshos_peer_rtt_seconds{peer}` and `meshos_peer_healthy{peer}` from this node's own
 * measurements, registered once; `current` is read at each scrape (the service may restart).
 */
export function registerProximityMetrics(
  registry: Registry,
  current: () => ProximityGraph | undefined,
): void {
  new Gauge({
    name: 'meshos_peer_rtt_seconds',
    help: 'smoothed round-trip time to each peer (proximity pings)',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [peer, sample] of current()?.row() ?? []) {
        if (sample.rttMs !== undefined) this.set({ peer: String(peer) }, sample.rttMs / 1000);
      }
    },
  });
  new Gauge({
    name: 'meshos_peer_healthy',
    help: 'whether each peer answers proximity pings within the health deadline (1) or not (0)',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [peer, sample] of current()?.row() ?? [])
        this.set({ peer: String(peer) }, sample.healthy ? 1 : 0);
    },
  });
}
