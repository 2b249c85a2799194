import { assert, isNodeId, type NodeId } from '../lib/index.js';
import { type Frame, FrameType } from './frame.js';
import { FrameError } from './frame-error.js';
import { MAX_CLUSTER_ID_BYTES, PROTOCOL_VERSION } from './limits.js';

/** The first frame on every connection, in both directions. */
export interface Handshake {
  readonly protocolVersion: number;
  readonly clusterId: string;
  readonly nodeId: NodeId;
}

const PROTOCOL_VERSION_BYTES = 2;
/** The node id as two big-endian u32 halves, high first; a `NodeId` needs 53 bits. */
const NODE_ID_BYTES = 8;
const NODE_ID_HIGH_FACTOR = 2 ** 32;
const CLUSTER_ID_LENGTH_BYTES = 2;
const FIXED_BYTES = PROTOCOL_VERSION_BYTES + NODE_ID_BYTES + CLUSTER_ID_LENGTH_BYTES;
/** The largest handshake payload: the decoder limit on a connection until its handshake is done. */
export const MAX_HANDSHAKE_PAYLOAD_BYTES = FIXED_BYTES + MAX_CLUSTER_ID_BYTES;

/** Layout: u16 protocol version, u64 node id, u16 cluster id length, cluster id (UTF-8). */
export function encodeHandshake(handshake: Handshake): Frame {
  const clusterId = new TextEncoder().encode(handshake.clusterId);
  assert(clusterId.length > 0 && clusterId.length <= MAX_CLUSTER_ID_BYTES, 'cluster id length out of range');
  assert(isNodeId(handshake.nodeId), `node id ${handshake.nodeId} is not a NodeId`);
  const payload = new Uint8Array(FIXED_BYTES + clusterId.length);
  const view = new DataView(payload.buffer);
  view.setUint16(0, handshake.protocolVersion);
  view.setUint32(PROTOCOL_VERSION_BYTES, Math.floor(handshake.nodeId / NODE_ID_HIGH_FACTOR));
  view.setUint32(PROTOCOL_VERSION_BYTES + 4, handshake.nodeId % NODE_ID_HIGH_FACTOR);
  view.setUint16(PROTOCOL_VERSION_BYTES + NODE_ID_BYTES, clusterId.length);
  payload.set(clusterId, FIXED_BYTES);
  return { type: FrameType.handshake, flags: 0, payload };
}

export function decodeHandshake(payload: Uint8Array): Handshake {
  if (payload.length < FIXED_BYTES) {
    throw new FrameError(
      'bad-handshake',
      `handshake of ${payload.length} B is shorter than ${FIXED_BYTES} B`,
    );
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const protocolVersion = view.getUint16(0);
  if (protocolVersion !== PROTOCOL_VERSION) {
    throw new FrameError(
      'bad-handshake',
      `handshake protocol version ${protocolVersion}, expected ${PROTOCOL_VERSION}`,
    );
  }
  const nodeId =
    view.getUint32(PROTOCOL_VERSION_BYTES) * NODE_ID_HIGH_FACTOR + view.getUint32(PROTOCOL_VERSION_BYTES + 4);
  if (!isNodeId(nodeId)) {
    throw new FrameError('bad-handshake', `handshake node id ${nodeId} is not a node id (1..2^53-1)`);
  }
  const clusterIdBytes = view.getUint16(PROTOCOL_VERSION_BYTES + NODE_ID_BYTES);
  if (clusterIdBytes === 0 || clusterIdBytes > MAX_CLUSTER_ID_BYTES) {
    throw new FrameError(
      'bad-handshake',
      `cluster id of ${clusterIdBytes} B, allowed 1..${MAX_CLUSTER_ID_BYTES}`,
    );
  }
  if (payload.length !== FIXED_BYTES + clusterIdBytes) {
    throw new FrameError(
      'bad-handshake',
      `handshake is ${payload.length} B, its cluster id length implies ${FIXED_BYTES + clusterIdBytes} B`,
    );
  }
  let clusterId: string;
  try {
    clusterId = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(FIXED_BYTES));
  } catch {
    throw new FrameError('bad-handshake', 'cluster id is not valid UTF-8');
  }
  return { protocolVersion, clusterId, nodeId };
}
