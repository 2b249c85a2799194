/**
 * Blobs services of several nodes in this process: each with its own in-memory disk and store,
 * one in-process control plane, an in-memory blobs channel between them on which a test can take
 * a node down (its messages are taken and never delivered), and RTTs a test sets.
 */
import { BlobStore } from '../../../src/blobs/index.js';
import { type ControlPlane, openControlPlane } from '../../../src/control/index.js';
import { MemoryDisk, type NodeId, SystemClock } from '../../../src/lib/index.js';
import { BlobsNode } from '../../../src/mesh/blob-node.js';
import type { PeerChannelLink } from '../../../src/server/index.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

export const BLOB_DIRECTORY = '/data/blobs';
const NODE_LEASE_TTL_SECONDS = 600;

export interface BlobMeshNode {
  readonly id: NodeId;
  readonly disk: MemoryDisk;
  readonly store: BlobStore;
  readonly blobs: BlobsNode;
}

export interface BlobMesh {
  readonly plane: ControlPlane;
  readonly nodes: Map<NodeId, BlobMeshNode>;
  /** Nodes whose messages are taken and never delivered, seen unhealthy by every node. */
  readonly down: Set<NodeId>;
  /** RTTs by `${from}->${to}`. */
  readonly rtt: Map<string, number>;
  node(id: NodeId): BlobMeshNode;
  /** Revokes node `id`'s lease (and with it what it published) and gives the node a new one, as a re-registration does. */
  replaceLease(id: NodeId): Promise<void>;
  close(): Promise<void>;
}

export async function openBlobMesh(
  ids: readonly NodeId[],
  options: { readonly orphanGraceMs?: number } = {},
): Promise<BlobMesh> {
  const clock = new SystemClock();
  const backend = new LocalKvBackend({ clock });
  const plane = await openControlPlane({ kind: 'in-process', backend, clock });
  const handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  const down = new Set<NodeId>();
  const rtt = new Map<string, number>();
  const nodes = new Map<NodeId, BlobMeshNode>();
  const leases = new Map<NodeId, number>();
  for (const id of ids) {
    const link: PeerChannelLink = {
      send: (peer, payload) => {
        if (!handlers.has(peer)) return false;
        if (down.has(id) || down.has(peer)) return true;
        queueMicrotask(() => handlers.get(peer)?.(id, payload));
        return true;
      },
      onMessage: (handler) => handlers.set(id, handler),
      onPeerLost: () => undefined,
    };
    // Heat rows live under the node's lease, as under a registration.
    leases.set(id, (await plane.grantLease(NODE_LEASE_TTL_SECONDS)).id);
    const disk = new MemoryDisk();
    const store = await BlobStore.open(disk, BLOB_DIRECTORY, { where: `node ${id}` });
    const blobs = new BlobsNode({
      self: id,
      plane,
      store,
      link,
      nodes: () => ids.map((node) => ({ id: node, healthy: !down.has(node) })),
      rttMs: (node) => rtt.get(`${id}->${node}`),
      leaseId: () => leases.get(id),
      clock,
      ...options,
    });
    nodes.set(id, { id, disk, store, blobs });
  }
  return {
    plane,
    nodes,
    down,
    rtt,
    node: (id) => nodes.get(id) as BlobMeshNode,
    async replaceLease(id) {
      const old = leases.get(id);
      if (old !== undefined) await plane.revokeLease(old);
      leases.set(id, (await plane.grantLease(NODE_LEASE_TTL_SECONDS)).id);
    },
    async close() {
      for (const node of nodes.values()) node.blobs.close();
      await plane.close();
      backend.close();
    },
  };
}

/** Bytes `size` long that differ from position to position (seeded by `seed`). */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < size; index++) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    bytes[index] = state >>> 24;
  }
  return bytes;
}

export async function* chunksOf(bytes: Uint8Array, pieceBytes = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += pieceBytes)
    yield bytes.subarray(offset, offset + pieceBytes);
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.byteLength;
  }
  return whole;
}

/** Whether two byte arrays hold the same bytes (compared natively: a deep equality of megabytes is slow). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}
