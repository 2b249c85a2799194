/**
 * A member checkpoint fetched from another node's member over the daemons channel, in chunks of
 * `CHECKPOINT_CHUNK_BYTES` (a checkpoint may be far larger than a peer frame). Each answer names
 * the checkpoint it is a chunk of (its `appliedThrough` and size); when the serving member took a
 * newer one during the transfer, the transfer starts again (at most
 * `MAX_CHECKPOINT_FETCH_ATTEMPTS` times). The assembled bytes are decoded strictly, checksum
 * included. Failures are `DAEMON_CHECKPOINT_UNAVAILABLE` (no member there, too large, changed on
 * every attempt, the peer did not answer) or `DAEMON_CHECKPOINT_INVALID` (damaged bytes).
 */
import {
  DaemonCheckpointInvalidError,
  DaemonCheckpointUnavailableError,
} from '../daemons/checkpoint-errors.js';
import { memberNode } from '../daemons/directory.js';
import {
  decodeMemberCheckpoint,
  MAX_MEMBER_CHECKPOINT_BYTES,
  type MemberCheckpoint,
} from '../daemons/member-checkpoint.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';
import type { DaemonMember } from './daemon-member.js';
import type { DaemonPeerRequests, PeerMessage } from './daemon-peer-requests.js';

/** Bytes of a checkpoint one answer carries (well below a peer frame). */
export const CHECKPOINT_CHUNK_BYTES = 1024 * 1024;
/** How long one chunk's request may take. */
export const CHECKPOINT_CHUNK_TIMEOUT_MS = 5_000;
/** Transfers started again because the served checkpoint changed during one. */
export const MAX_CHECKPOINT_FETCH_ATTEMPTS = 3;

/** The request a node sends for a chunk of `name`'s checkpoint. */
export function checkpointChunkRequest(name: string, offset: number, minAppliedThrough: number): PeerMessage {
  return { header: { type: 'checkpoint', name, offset, minAppliedThrough }, blobs: [] };
}

/**
 * The checkpoint of the member of `name` on `node`, reflecting at least `minAppliedThrough`
 * (the member takes one if its last is older).
 */
export async function fetchMemberCheckpoint(
  peers: DaemonPeerRequests,
  node: NodeId,
  name: string,
  minAppliedThrough: number,
): Promise<MemberCheckpoint> {
  const ask = async (
    offset: number,
    min: number,
  ): Promise<{ through: number; total: number; chunk: Uint8Array }> => {
    let answer: PeerMessage;
    try {
      answer = await peers.request(
        node,
        checkpointChunkRequest(name, offset, min),
        CHECKPOINT_CHUNK_TIMEOUT_MS,
      );
    } catch (error) {
      throw new DaemonCheckpointUnavailableError(
        name,
        `node ${node} did not answer: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
    const { appliedThrough, totalBytes } = answer.header;
    const chunk = answer.blobs[0];
    if (typeof appliedThrough !== 'number' || typeof totalBytes !== 'number' || chunk === undefined)
      throw new DaemonCheckpointUnavailableError(name, `node ${node} answered no checkpoint chunk`);
    if (totalBytes > MAX_MEMBER_CHECKPOINT_BYTES)
      throw new DaemonCheckpointUnavailableError(
        name,
        `node ${node}'s checkpoint has ${totalBytes} bytes, above the limit of ${MAX_MEMBER_CHECKPOINT_BYTES}`,
      );
    return { through: appliedThrough, total: totalBytes, chunk };
  };
  for (let attempt = 0; attempt < MAX_CHECKPOINT_FETCH_ATTEMPTS; attempt++) {
    const first = await ask(0, minAppliedThrough);
    const bytes = new Uint8Array(first.total);
    let received = copyChunk(bytes, 0, first.chunk);
    while (received < first.total) {
      const next = await ask(received, first.through);
      if (next.through !== first.through || next.total !== first.total) break;
      if (next.chunk.length === 0) break;
      received = copyChunk(bytes, received, next.chunk);
    }
    if (received === first.total)
      return decodeMemberCheckpoint(bytes, `checkpoint of daemon ${name} from node ${node}`);
  }
  throw new DaemonCheckpointUnavailableError(
    name,
    `node ${node}'s checkpoint changed during each of ${MAX_CHECKPOINT_FETCH_ATTEMPTS} transfers`,
  );
}

function copyChunk(bytes: Uint8Array, at: number, chunk: Uint8Array): number {
  if (at + chunk.length > bytes.length)
    throw new DaemonCheckpointInvalidError('a fetched checkpoint', 'a chunk runs past its end');
  bytes.set(chunk, at);
  return at + chunk.length;
}

/** Answers a chunk request with this node's member of `name` (the request's fields checked). */
export async function serveCheckpointChunk(
  member: Pick<DaemonMember, 'checkpointToServe'> | undefined,
  name: string,
  header: Readonly<Record<string, unknown>>,
): Promise<PeerMessage> {
  const { offset, minAppliedThrough } = header;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(minAppliedThrough))
    throw new DaemonCheckpointUnavailableError(name, 'a chunk request without offset and minAppliedThrough');
  if (member === undefined) throw new DaemonCheckpointUnavailableError(name, 'no member of it runs here');
  const served = await member.checkpointToServe(minAppliedThrough as number);
  if (served === undefined) throw new DaemonCheckpointUnavailableError(name, 'its member here holds none');
  const from = Math.min(offset as number, served.bytes.length);
  return {
    header: { appliedThrough: served.appliedThrough, totalBytes: served.bytes.length },
    blobs: [served.bytes.subarray(from, from + CHECKPOINT_CHUNK_BYTES)],
  };
}

/**
 * A member's last checkpoint of daemon `definition` (one taken now when it has none): this
 * node's member's when one runs here (`local`), else the one of the member on its active's node,
 * fetched. Undefined when the daemon has no active elsewhere (a replica group).
 */
export async function lastMemberCheckpoint(
  peers: DaemonPeerRequests,
  definition: DaemonDefinition,
  local: Pick<DaemonMember, 'checkpointToServe'> | undefined,
): Promise<MemberCheckpoint | undefined> {
  if (local !== undefined) {
    const served = await local.checkpointToServe(0);
    return served === undefined
      ? undefined
      : decodeMemberCheckpoint(served.bytes, `checkpoint of daemon ${definition.name} here`);
  }
  const node = memberNode(definition, definition.active);
  return node === undefined ? undefined : fetchMemberCheckpoint(peers, node, definition.name, 0);
}
