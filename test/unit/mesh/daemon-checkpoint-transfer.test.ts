/**
 * A checkpoint fetched from another node's member over the daemons channel (two
 * `DaemonPeerRequests` on an in-memory link): chunked and reassembled, started again when the
 * served checkpoint changes, refused with a typed error when damaged, absent or too often changed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMemberCheckpoint, type MemberCheckpoint } from '../../../src/daemons/member-checkpoint.js';
import { type NodeId, SystemClock } from '../../../src/lib/index.js';
import {
  CHECKPOINT_CHUNK_BYTES,
  fetchMemberCheckpoint,
  serveCheckpointChunk,
} from '../../../src/mesh/daemon-checkpoint-transfer.js';
import type { ServedCheckpoint } from '../../../src/mesh/daemon-member-checkpoints.js';
import { DaemonPeerRequests } from '../../../src/mesh/daemon-peer-requests.js';
import type { PeerChannelLink } from '../../../src/server/index.js';
import { rejectionCode } from '../../support/error-code.js';

const clock = new SystemClock();
const opened: DaemonPeerRequests[] = [];
afterEach(() => {
  for (const peers of opened.splice(0)) peers.close();
});

/** Node 1 (the fetcher) and node 2 (serving `serve`'s checkpoints) on one in-memory channel. */
function pair(serve: (minAppliedThrough: number) => Promise<ServedCheckpoint | undefined>, present = true) {
  const handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  const link = (self: NodeId): PeerChannelLink => ({
    send: (peer, payload) => {
      queueMicrotask(() => handlers.get(peer)?.(self, payload));
      return true;
    },
    onMessage: (handler) => handlers.set(self, handler),
    onPeerLost: () => undefined,
  });
  const fetcher = new DaemonPeerRequests(link(1), clock);
  const server = new DaemonPeerRequests(link(2), clock);
  opened.push(fetcher, server);
  const requests: number[] = [];
  server.serve(async (_from, request) => {
    requests.push(Number(request.header.offset));
    return serveCheckpointChunk(present ? { checkpointToServe: serve } : undefined, 'log', request.header);
  });
  return { fetcher, requests };
}

function checkpointOf(appliedThrough: number, snapshotBytes: number): MemberCheckpoint {
  const snapshot = new Uint8Array(snapshotBytes);
  for (let at = 0; at < snapshot.length; at++) snapshot[at] = (at * 31 + appliedThrough) & 0xff;
  return { createdAtMs: 7, epochSeen: 2, appliedThrough, snapshot };
}

/** Field by field, the snapshot bytes compared whole (a deep equality of megabytes is slow). */
function expectSame(got: MemberCheckpoint, wanted: MemberCheckpoint): void {
  const { snapshot, ...fields } = got;
  const { snapshot: wantedSnapshot, ...wantedFields } = wanted;
  expect(fields).toEqual(wantedFields);
  expect(Buffer.from(snapshot).equals(Buffer.from(wantedSnapshot))).toBe(true);
}

function served(checkpoint: MemberCheckpoint): ServedCheckpoint {
  return { appliedThrough: checkpoint.appliedThrough, bytes: encodeMemberCheckpoint(checkpoint) };
}

describe('checkpoint transfer between nodes', () => {
  it('fetches a checkpoint larger than one chunk, in chunks, and decodes it', async () => {
    const checkpoint = checkpointOf(900, Math.floor(2.5 * CHECKPOINT_CHUNK_BYTES));
    const { fetcher, requests } = pair(async () => served(checkpoint));
    expectSame(await fetchMemberCheckpoint(fetcher, 2, 'log', 0), checkpoint);
    expect(requests).toEqual([0, CHECKPOINT_CHUNK_BYTES, 2 * CHECKPOINT_CHUNK_BYTES]);
  });

  it('starts again when the served checkpoint changes during a transfer', async () => {
    let through = 100;
    const newer = checkpointOf(200, 2 * CHECKPOINT_CHUNK_BYTES);
    const { fetcher } = pair(async () => {
      // The first transfer sees a newer checkpoint after its first chunk; the second sees it throughout.
      const answer = through === 100 ? served(checkpointOf(100, 2 * CHECKPOINT_CHUNK_BYTES)) : served(newer);
      through = 200;
      return answer;
    });
    expectSame(await fetchMemberCheckpoint(fetcher, 2, 'log', 0), newer);
  });

  it('refuses with typed errors: no member there, a checkpoint changing on every attempt, damaged bytes', async () => {
    expect(
      await rejectionCode(fetchMemberCheckpoint(pair(async () => undefined, false).fetcher, 2, 'log', 0)),
    ).toBe('DAEMON_CHECKPOINT_UNAVAILABLE');
    let through = 0;
    const changing = pair(async () => served(checkpointOf(++through, 2 * CHECKPOINT_CHUNK_BYTES)));
    expect(await rejectionCode(fetchMemberCheckpoint(changing.fetcher, 2, 'log', 0))).toBe(
      'DAEMON_CHECKPOINT_UNAVAILABLE',
    );
    const damaged = served(checkpointOf(5, 1_000));
    damaged.bytes[100] = (damaged.bytes[100] as number) ^ 1;
    expect(await rejectionCode(fetchMemberCheckpoint(pair(async () => damaged).fetcher, 2, 'log', 0))).toBe(
      'DAEMON_CHECKPOINT_INVALID',
    );
  });
});
