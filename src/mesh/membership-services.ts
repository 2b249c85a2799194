/**
 * A voter's part in the mesh's membership, as two services of its tree: the control plane
 * in-process over its own replicated store, and its registration and view of every node.
 */
import { openControlPlane } from '../control/index.js';
import { formatAddress } from '../lib/index.js';
import { Membership } from './membership.js';
import { DEFAULT_NODE_LEASE_TTL_SECONDS } from './membership-config.js';
import type { NodeService } from './node-service.js';
import { type NodeServiceContext, part, SERVICE } from './node-services.js';
import { meshosVersion } from './version.js';

export function controlPlaneService({ parts, clock, random }: NodeServiceContext): NodeService {
  return {
    name: SERVICE.controlPlane,
    role: 'control plane, in-process over the replicated store',
    dependsOn: [SERVICE.raft],
    policy: 'restartable',
    async open() {
      const plane = await openControlPlane({
        kind: 'in-process',
        backend: part(parts, 'backend'),
        clock,
        random: random.fork('control-plane'),
      });
      parts.controlPlane = plane;
      return {
        close: async () => {
          delete parts.controlPlane;
          await plane.close();
        },
      };
    },
  };
}

export function membershipService({ config, parts, clock, random, logger }: NodeServiceContext): NodeService {
  return {
    name: SERVICE.membership,
    role: 'registration under a kept-alive lease, and the view of every node',
    // The record names the client and admin ports, so they are bound first.
    dependsOn: [SERVICE.controlPlane, SERVICE.etcdApi, SERVICE.admin],
    policy: 'restartable',
    async open() {
      const membership = new Membership({
        plane: part(parts, 'controlPlane'),
        record: {
          id: config.id,
          name: config.name,
          role: 'voter',
          addresses: {
            peer: formatAddress(part(parts, 'peerAddress')),
            client: formatAddress(part(parts, 'clientAddress')),
            admin: formatAddress(part(parts, 'adminAddress')),
          },
          zone: config.membership?.zone ?? '',
          capacity: config.membership?.capacity ?? {},
          version: meshosVersion(),
          startedAt: clock.wallMs(),
        },
        leaseTtlSeconds: config.membership?.leaseTtlSeconds ?? DEFAULT_NODE_LEASE_TTL_SECONDS,
        transport: part(parts, 'transport'),
        dialRegisteredNodes: false,
        clock,
        random: random.fork('membership'),
        ...(logger === undefined ? {} : { logger }),
      });
      membership.start();
      parts.membership = membership;
      return {
        close: async () => {
          delete parts.membership;
          // Not a leave: the node's stop leaves first (MeshNode.stop); a restart takes the key over.
          await membership.stop();
        },
      };
    },
  };
}
