/**
 * A node's part in the mesh's membership, as two services of its tree: the control plane (on a
 * voter in-process over its own replicated store, on a worker a client of the control plane's
 * endpoints), and its registration and view of every node.
 */
import { type ControlPlane, openControlPlane } from '../control/index.js';
import { formatAddress } from '../lib/index.js';
import { Membership } from './membership.js';
import { DEFAULT_NODE_LEASE_TTL_SECONDS } from './membership-config.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeRecord } from './node-record.js';
import type { NodeService } from './node-service.js';
import type { NodeServiceContext } from './node-services.js';
import { meshosVersion } from './version.js';

/** How a role reaches its control plane, and gives it back (`close` is a no-op for a borrowed one). */
export interface ControlPlaneConnection {
  readonly plane: ControlPlane;
  close(): Promise<void>;
}

export function controlPlaneService(
  { parts }: CommonServiceContext,
  options: {
    readonly role: string;
    readonly dependsOn: readonly string[];
    connect(): Promise<ControlPlaneConnection>;
  },
): NodeService {
  return {
    name: SERVICE.controlPlane,
    role: options.role,
    dependsOn: options.dependsOn,
    // A client of the store: it holds no state of its own, so a fresh one replaces it.
    policy: 'restartable',
    async open() {
      const connection = await options.connect();
      parts.controlPlane = connection.plane;
      return {
        close: async () => {
          delete parts.controlPlane;
          await connection.close();
        },
      };
    },
  };
}

/** A voter's control plane: in-process over its own `RaftKvBackend`. */
export function voterControlPlaneService(context: NodeServiceContext): NodeService {
  const { parts, clock, random } = context;
  return controlPlaneService(context, {
    role: 'control plane, in-process over the replicated store',
    dependsOn: [SERVICE.raft],
    async connect() {
      const plane = await openControlPlane({
        kind: 'in-process',
        backend: part(parts, 'backend'),
        clock,
        random: random.fork('control-plane'),
      });
      return { plane, close: () => plane.close() };
    },
  });
}

/** What differs in the record of a voter and of a worker. */
export interface MembershipRecordSource {
  readonly role: NodeRecord['role'];
  readonly name: () => string;
  readonly addresses: () => NodeRecord['addresses'];
  /** Dial the registered nodes (both roles do: chains need every node to reach every other). */
  readonly dialRegisteredNodes: boolean;
  /** Told of each membership the service opens (the first, and each after a restart). */
  readonly opened?: (membership: Membership) => void;
}

export function membershipService(
  context: CommonServiceContext,
  dependsOn: readonly string[],
  source: MembershipRecordSource,
): NodeService {
  const { config, parts, clock, random, logger } = context;
  return {
    name: SERVICE.membership,
    role: 'registration under a kept-alive lease, and the view of every node',
    dependsOn,
    policy: 'restartable',
    async open() {
      const membership = new Membership({
        plane: part(parts, 'controlPlane'),
        record: {
          id: part(parts, 'identity').id,
          name: source.name(),
          role: source.role,
          addresses: source.addresses(),
          zone: config.membership?.zone ?? '',
          capacity: config.membership?.capacity ?? {},
          version: meshosVersion(),
          startedAt: clock.wallMs(),
        },
        leaseTtlSeconds: config.membership?.leaseTtlSeconds ?? DEFAULT_NODE_LEASE_TTL_SECONDS,
        transport: part(parts, 'transport'),
        dialRegisteredNodes: source.dialRegisteredNodes,
        clock,
        random: random.fork('membership'),
        ...(logger === undefined ? {} : { logger }),
      });
      membership.start();
      parts.membership = membership;
      source.opened?.(membership);
      return {
        close: async () => {
          delete parts.membership;
          // Not a leave: the node's stop leaves first; a restart takes the key over.
          await membership.stop();
        },
      };
    },
  };
}

export function voterMembershipService(context: NodeServiceContext): NodeService {
  const { config, parts } = context;
  // The record names the client and admin ports, so they are bound first.
  return membershipService(context, [SERVICE.controlPlane, SERVICE.etcdApi, SERVICE.admin], {
    role: 'voter',
    name: () => config.name,
    addresses: () => ({
      peer: formatAddress(part(parts, 'peerAddress')),
      client: formatAddress(part(parts, 'clientAddress')),
      admin: formatAddress(part(parts, 'adminAddress')),
    }),
    dialRegisteredNodes: true,
  });
}
