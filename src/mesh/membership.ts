import { Gauge, type Registry } from 'prom-client';
import type { ControlPlane } from '../control/index.js';
import {
  type Address,
  type Clock,
  hash64,
  type Logger,
  type NodeId,
  parseAddress,
  type Random,
} from '../lib/index.js';
import type { PeerTransport } from '../transport/index.js';
import { type MemberNode, MembershipView, type NodeHealth } from './membership-view.js';
import type { NodeRecord } from './node-record.js';
import { NodeRegistration } from './node-registration.js';

/** Lease look-ups in flight at once while answering `/nodes`. */
export const MAX_LEASE_QUERIES_IN_FLIGHT = 32;
/** The transport's peer set the membership's dialed nodes make up. */
export const MEMBERSHIP_PEER_SET = 'membership';

/**
 * Most registered nodes a node dials. A full mesh does not scale (every node also holds at
 * most MAX_INBOUND_CONNECTIONS inbound); each node dials a pseudo-random share instead, so
 * every node is watched by about this many peers.
 */
export const MAX_DIALED_NODES = 32;

/**
 * The nodes `self` dials among `others`: all of them up to `limit`, else the `limit` that rank
 * first by a hash of the pair (rendezvous hashing: stable as nodes come and go, and spread, so
 * no node is dialed by everyone).
 */
export function nodesToDial(
  self: NodeId,
  others: readonly NodeId[],
  limit: number = MAX_DIALED_NODES,
): NodeId[] {
  const candidates = others.filter((id) => id !== self);
  if (candidates.length <= limit) return candidates;
  const encoder = new TextEncoder();
  return candidates
    .map((id) => ({ id, rank: hash64(encoder.encode(`${self}/${id}`)) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.id - b.id))
    .slice(0, limit)
    .map((entry) => entry.id);
}

/**
 * The nodes `self` can measure: those it dials that dial it back. A pong travels on the
 * answering node's own outbound link, so a node that `self` dials but that does not dial `self`
 * could never answer, and would read as unhealthy for a reason that is only the dialing plan.
 * Up to `limit + 1` nodes every node dials every other, so this is all of them; in a larger
 * mesh each node measures about `limit * limit / (nodes - 1)` peers and the other pairs stay
 * unmeasured by design (docs/CHAINS.md "Election"). The relation is symmetric: `a` measures `b`
 * exactly when `b` measures `a`.
 */
export function nodesToMeasure(
  self: NodeId,
  others: readonly NodeId[],
  limit: number = MAX_DIALED_NODES,
): NodeId[] {
  const everyone = [...new Set([self, ...others])];
  return nodesToDial(self, everyone, limit).filter((peer) =>
    nodesToDial(peer, everyone, limit).includes(self),
  );
}

export interface MembershipOptions {
  readonly plane: ControlPlane;
  readonly record: NodeRecord;
  readonly leaseTtlSeconds: number;
  /** Its lost connections mark nodes suspect, its new ones clear that. */
  readonly transport: PeerTransport;
  /**
   * Dial the registered nodes (up to MAX_DIALED_NODES), as this owner's peer set of the
   * transport: beside Raft's on a voter, so that every node can reach every other (chains).
   */
  readonly dialRegisteredNodes: boolean;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

/** One node as `/nodes` and `meshos nodes` show it. */
export interface NodeListing extends NodeRecord {
  /** `gone`: still listed here, but its lease no longer exists (the deletion is on its way). */
  readonly health: NodeHealth | 'gone';
  readonly leaseId: number;
  /** Seconds before the lease expires unless renewed; undefined when the control plane did not answer. */
  readonly leaseRemainingSeconds?: number;
  readonly leaseTtlSeconds?: number;
}

export interface NodesReport {
  /** The node that answered. */
  readonly reporter: NodeId;
  readonly nodes: readonly NodeListing[];
}

/**
 * A node's part in the mesh's membership: its own registration under a lease, and its view of
 * every registered node, fed hints by the peer transport.
 */
export class Membership {
  readonly view: MembershipView;
  readonly registration: NodeRegistration;

  constructor(private readonly options: MembershipOptions) {
    const logger = options.logger?.child({ part: 'membership' });
    this.registration = new NodeRegistration({
      plane: options.plane,
      record: options.record,
      leaseTtlSeconds: options.leaseTtlSeconds,
      clock: options.clock,
      random: options.random.fork('registration'),
      ...(logger === undefined ? {} : { logger }),
    });
    this.view = new MembershipView({
      plane: options.plane,
      clock: options.clock,
      random: options.random.fork('membership-view'),
      // A suspect still registered a whole TTL later kept renewing its lease: it is up.
      suspicionLapseMs: options.leaseTtlSeconds * 1_000,
      ...(logger === undefined ? {} : { logger }),
    });
    options.transport.onPeerLost((peer) => this.view.suspect(peer));
    options.transport.onConnected((peer) => this.view.trust(peer));
    if (options.dialRegisteredNodes) {
      this.view.onChange((change) => {
        if (change.type === 'join' || change.type === 'update' || change.type === 'leave') this.dialPeers();
      });
    }
  }

  /** Starts registering and following the mesh, in the background. */
  start(): void {
    this.view.start();
    this.registration.start();
  }

  /** Every registered node with its health and what is left of its lease. */
  async report(): Promise<NodesReport> {
    const nodes = this.view.nodes();
    const listings: NodeListing[] = [];
    for (let start = 0; start < nodes.length; start += MAX_LEASE_QUERIES_IN_FLIGHT) {
      const batch = nodes.slice(start, start + MAX_LEASE_QUERIES_IN_FLIGHT);
      listings.push(...(await Promise.all(batch.map((node) => this.listing(node)))));
    }
    return { reporter: this.options.record.id, nodes: listings };
  }

  /** Leaves the mesh at once (the lease is revoked) and stops following it. */
  async leave(): Promise<void> {
    await this.registration.leave();
    await this.view.close();
  }

  /**
   * Stops renewing and following without revoking: a restarted membership service registers
   * again on the same key, which the mesh sees as an update, not a leave and a join.
   */
  async stop(): Promise<void> {
    await this.registration.stop();
    await this.view.close();
  }

  private async listing(node: MemberNode): Promise<NodeListing> {
    const base = { ...node.record, health: node.health, leaseId: node.leaseId };
    try {
      const lease = await this.options.plane.leaseTimeToLive(node.leaseId);
      if (lease === undefined) return { ...base, health: 'gone' };
      return {
        ...base,
        leaseRemainingSeconds: lease.remainingSeconds,
        leaseTtlSeconds: lease.grantedTtlSeconds,
      };
    } catch {
      return base;
    }
  }

  private dialPeers(): void {
    const nodes = this.view.nodes();
    const chosen = new Set(
      nodesToDial(
        this.options.record.id,
        nodes.map((node) => node.record.id),
      ),
    );
    const peers = new Map<NodeId, Address>();
    for (const node of nodes) {
      if (chosen.has(node.record.id)) peers.set(node.record.id, parseAddress(node.record.addresses.peer));
    }
    this.options.transport.setPeerSet(MEMBERSHIP_PEER_SET, peers);
  }
}

/**
 * The membership metrics of a node, registered once: `current` is read at each scrape, so a
 * restarted membership service is counted without registering the metrics again.
 */
export function registerMembershipMetrics(registry: Registry, current: () => Membership | undefined): void {
  new Gauge({
    name: 'meshos_membership_nodes',
    help: 'registered nodes this node sees, by health',
    labelNames: ['health'],
    registers: [registry],
    collect() {
      const counts = { alive: 0, suspect: 0 };
      for (const node of current()?.view.nodes() ?? []) counts[node.health]++;
      for (const [health, count] of Object.entries(counts)) this.set({ health }, count);
    },
  });
  new Gauge({
    name: 'meshos_node_registrations',
    help: 'times this node registered in the mesh (1 + re-registrations after a lost lease)',
    registers: [registry],
    collect() {
      this.set(current()?.registration.registrations ?? 0);
    },
  });
  new Gauge({
    name: 'meshos_node_lease_losses',
    help: "times this node's keep-alive lost its lease",
    registers: [registry],
    collect() {
      this.set(current()?.registration.leaseLosses ?? 0);
    },
  });
}
