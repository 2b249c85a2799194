/**
 * The `blobs` service of a node's supervision tree, voters and workers alike (docs/BLOBS.md): the
 * node's blob store in `<data>/blobs/`, its records in the control plane, the copies it serves
 * to other nodes on the blobs channel of the peer transport, and its published read heat. It
 * registers the reconcile service's `blobs` owner and the blobs' observed and desired state on
 * the node's reconcile hub (used while this node holds the reconciler lease).
 * Restartable: everything it keeps is on disk or in the control plane.
 */
import * as path from 'node:path';
import type { BlobsBackend } from '../api/blobs-backend.js';
import { BlobServiceUnavailableError, BlobStore } from '../blobs/index.js';
import { PEER_CHANNEL } from '../lib/index.js';
import { BlobsNode } from './blob-node.js';
import { BlobsOwner } from './blob-owner.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';
import { reconcileHubOf } from './reconcile-hub.js';

export function blobsService(context: CommonServiceContext): NodeService {
  const { parts, clock, logger, disk } = context;
  return {
    name: SERVICE.blobs,
    role: 'content-addressed blobs: this node’s copies on disk, copies for other nodes, read heat',
    dependsOn: [SERVICE.transport, SERVICE.controlPlane, SERVICE.membership],
    policy: 'restartable',
    async open() {
      const self = part(parts, 'identity').id;
      const membership = part(parts, 'membership');
      const log = logger?.child({ part: 'blobs' });
      const store = await BlobStore.open(disk, path.join(context.config.dataDirectory, 'blobs'), {
        where: `node ${self}`,
      });
      const blobs = new BlobsNode({
        self,
        plane: part(parts, 'controlPlane'),
        store,
        link: part(parts, 'channels').link(PEER_CHANNEL.blobs),
        nodes: () =>
          membership.view.nodes().map((node) => ({ id: node.record.id, healthy: node.health === 'alive' })),
        rttMs: (node) => parts.proximityMatrix?.()?.rows.get(self)?.peers.get(node)?.rttMs,
        leaseId: () => membership.registration.leaseId,
        clock,
        ...(context.config.blobOrphanGraceMs === undefined
          ? {}
          : { orphanGraceMs: context.config.blobOrphanGraceMs }),
        ...(log === undefined ? {} : { logger: log }),
      });
      parts.blobs = blobs;
      const hub = reconcileHubOf(parts);
      const owner = new BlobsOwner(() => parts.blobs);
      const unregister = [
        hub.registerOwner('blobs', {
          handle: (pending, dispatch) => owner.carryOut(pending, dispatch.term.fence),
        }),
        hub.registerStateSource('blobs', {
          blobs: () => blobs.reconcileState.state(),
          onChange: (listener) => blobs.reconcileState.onChange(listener),
        }),
      ];
      void blobs.leaveHoldersOfMissingCopies().then(
        (left) => {
          if (left > 0)
            log?.warn({ left }, 'blobs: left the holders of blobs whose copy is not on this disk');
        },
        (error: unknown) => log?.warn({ err: error }, 'blobs: checking the listed copies failed'),
      );
      return {
        close: async () => {
          for (const stop of unregister) stop();
          delete parts.blobs;
          blobs.close();
        },
      };
    },
  };
}

/** The client port's view of the blobs service: calls fail with BLOBS_UNAVAILABLE while it does not run. */
export function blobsBackendOf(parts: { readonly blobs?: BlobsBackend }): BlobsBackend {
  const running = (): BlobsBackend => {
    const blobs = parts.blobs;
    if (blobs === undefined)
      throw new BlobServiceUnavailableError('the blobs service of this node is not running');
    return blobs;
  };
  return {
    put: async (chunks, replicas) => running().put(chunks, replicas),
    get: async (id) => running().get(id),
    status: async (id) => running().status(id),
    list: async () => running().list(),
    remove: async (id) => running().remove(id),
  };
}
